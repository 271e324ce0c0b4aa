import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { safeSegment } from '@sprout/http';
import type { ClusterConfig } from './config.js';
import { ClusterError } from './errors.js';
import {
  RUN_ACTIONS,
  findOnPath,
  kkArgs,
  kkCommandLine,
  type RunAction,
  type RunParams,
} from './kk-command.js';
import type { ClusterStore } from './store.js';

/** `interrupted`: the console stopped while kk ran (its record was never closed). */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

/** One kk run as recorded next to its log. */
export interface RunRecord {
  id: string;
  cluster: string;
  action: RunAction;
  params: RunParams;
  /** The command as a person would type it (the config file named as it is downloaded). */
  command: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  exitCode?: number | null;
  signal?: string | null;
}

export interface RunLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface RunManagerOptions {
  /** The kk command (a name looked up on PATH, or a path); default `kk`. */
  kk?: string;
  /** The environment kk runs with (and whose PATH is searched); default this process's. */
  env?: NodeJS.ProcessEnv;
  /** How long a cancelled kk gets between SIGTERM and SIGKILL; default 5 s. */
  killGraceMs?: number;
}

interface Active {
  record: RunRecord;
  child: ChildProcess;
  lines: RunLine[];
  listeners: Set<(l: RunLine) => void>;
  ended: Set<(r: RunRecord) => void>;
  cancelled: boolean;
  done: Promise<void>;
}

const MAX_LINE = 16 * 1024;
const MEMORY_LINES = 20_000;

/**
 * Runs kk for saved clusters, one run per cluster at a time. Each run's lines go to
 * `<cluster dir>/runs/<id>.log` as they come and to followers; the record (status, exit code,
 * duration) to `<id>.json`. kk reads the config, secrets in clear, from a 0600 file in a 0700
 * temp folder that is removed when kk exits.
 */
export class RunManager {
  readonly #store: ClusterStore;
  readonly #o: RunManagerOptions;
  readonly #active = new Map<string, Active>();

  constructor(store: ClusterStore, o: RunManagerOptions = {}) {
    this.#store = store;
    this.#o = o;
    // Clear configs a console that stopped mid-run left behind (they hold secrets in clear).
    rmSync(this.#tmpRoot, { recursive: true, force: true });
  }

  /** Where kk's clear configs live while it runs: inside the data dir, 0700, emptied at start. */
  get #tmpRoot(): string {
    return join(this.#store.root, 'run-tmp');
  }

  start(cluster: string, action: RunAction, params: RunParams = {}): RunRecord {
    if (!RUN_ACTIONS.includes(action)) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_REQUEST_INVALID',
        `action must be one of ${RUN_ACTIONS.join(', ')}`,
        { field: 'action' },
      );
    }
    const busy = this.#active.get(cluster);
    if (busy) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_RUN_BUSY',
        `${cluster} already has a run (${busy.record.action}, ${busy.record.id}): wait for it or cancel it`,
        { field: busy.record.id },
      );
    }
    const saved = this.#store.assertRunnable(cluster);
    const p = checkParams(action, params, saved.config);
    const command = kkCommandLine(action, `${cluster}.yaml`, p);
    const env = this.#o.env ?? process.env;
    const kk = findOnPath(this.#o.kk ?? 'kk', env.PATH);
    if (!kk) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_KK_MISSING',
        `kk is not on the console's PATH: install KubeKey v3 (github.com/kubesphere/kubekey releases) and restart the console, or download ${cluster}.yaml and run: ${command}`,
      );
    }
    const change =
      action === 'upgrade'
        ? (c: ClusterConfig) => void ((c.spec.kubernetes ??= {}).version = p.version)
        : undefined;
    const text = this.#store.plainConfig(cluster, change);
    mkdirSync(this.#tmpRoot, { recursive: true, mode: 0o700 });
    const tmp = mkdtempSync(join(this.#tmpRoot, 'kk-'));
    const file = join(tmp, `${cluster}.yaml`);
    writeFileSync(file, text, { mode: 0o600 });

    const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
    const dir = this.#runsDir(cluster);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const record: RunRecord = {
      id,
      cluster,
      action,
      params: p,
      command,
      status: 'running',
      startedAt: new Date().toISOString(),
    };
    const started = Date.now();
    const { args, stdin } = kkArgs(action, file, p);
    const child = spawn(kk, args, { cwd: tmp, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.on('error', () => {});
    child.stdin!.end(stdin ?? '');
    const log = join(dir, `${id}.log`);
    writeFileSync(log, '', { mode: 0o600 });
    writeFileSync(join(dir, `${id}.json`), JSON.stringify(record));

    let finish!: () => void;
    const active: Active = {
      record,
      child,
      lines: [],
      listeners: new Set(),
      ended: new Set(),
      cancelled: false,
      done: new Promise((r) => (finish = r)),
    };
    this.#active.set(cluster, active);
    const onLine = (stream: RunLine['stream']) => (raw: string) => {
      const line: RunLine = { stream, text: raw.length > MAX_LINE ? `${raw.slice(0, MAX_LINE)}…` : raw };
      appendFileSync(log, `${stream === 'stderr' ? 'E ' : 'O '}${line.text}\n`);
      if (active.lines.length < MEMORY_LINES) active.lines.push(line);
      for (const l of active.listeners) l(line);
    };
    const streams = [
      createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', onLine('stdout')),
      createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', onLine('stderr')),
    ];
    const closed = Promise.all(streams.map((s) => new Promise((r) => s.once('close', r))));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.once('error', (err) => {
        onLine('stderr')(`could not start kk: ${err.message}`);
        resolve([null, null]);
      });
      child.once('exit', (code, signal) => resolve([code, signal]));
    });
    void Promise.all([exited, closed]).then(([[code, signal]]) => {
      rmSync(tmp, { recursive: true, force: true });
      Object.assign(record, {
        status: active.cancelled ? 'cancelled' : code === 0 ? 'succeeded' : 'failed',
        endedAt: new Date().toISOString(),
        durationMs: Date.now() - started,
        exitCode: code,
        signal,
      } satisfies Partial<RunRecord>);
      if (record.status === 'succeeded') this.#afterSuccess(record);
      writeFileSync(join(dir, `${id}.json`), JSON.stringify(record));
      this.#active.delete(cluster);
      for (const e of active.ended) e(record);
      finish();
    });
    return { ...record };
  }

  /** Stops a running kk and everything it started (its process group): SIGTERM, then SIGKILL. */
  cancel(cluster: string, id: string): RunRecord {
    const a = this.#active.get(cluster);
    if (!a || a.record.id !== id) {
      const r = this.get(cluster, id);
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_RUN_NOT_FOUND',
        `run ${id} is not running (it ${r.status})`,
      );
    }
    a.cancelled = true;
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-a.child.pid!, sig);
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    const t = setTimeout(() => kill('SIGKILL'), this.#o.killGraceMs ?? 5000);
    void a.done.then(() => clearTimeout(t));
    return { ...a.record };
  }

  list(cluster: string): RunRecord[] {
    const dir = this.#runsDir(cluster);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => this.get(cluster, f.slice(0, -5)))
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  get(cluster: string, id: string): RunRecord {
    const a = this.#active.get(cluster);
    if (a && a.record.id === id) return { ...a.record };
    const file = join(this.#runsDir(cluster), `${safeSegment(id, 'run id')}.json`);
    if (!existsSync(file)) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_RUN_NOT_FOUND',
        `no run ${id} of ${cluster}: list the cluster's runs for their ids`,
      );
    }
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    // Not running here: the console that ran it stopped before kk ended.
    return r.status === 'running' ? { ...r, status: 'interrupted' } : r;
  }

  /**
   * Sends every line of a run so far, then the new ones as they come, then the final record.
   * Returns a function that stops following.
   */
  follow(
    cluster: string,
    id: string,
    onLine: (l: RunLine) => void,
    onEnd: (r: RunRecord) => void,
  ): () => void {
    const a = this.#active.get(cluster);
    if (a && a.record.id === id && a.lines.length < MEMORY_LINES) {
      for (const l of a.lines) onLine(l);
      a.listeners.add(onLine);
      a.ended.add(onEnd);
      return () => {
        a.listeners.delete(onLine);
        a.ended.delete(onEnd);
      };
    }
    const record = this.get(cluster, id);
    for (const l of this.lines(cluster, id)) onLine(l);
    onEnd(record);
    return () => {};
  }

  /** The lines of a run's log as kept on disk. */
  lines(cluster: string, id: string): RunLine[] {
    this.get(cluster, id);
    const file = join(this.#runsDir(cluster), `${safeSegment(id, 'run id')}.log`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => ({ stream: l.startsWith('E ') ? 'stderr' : 'stdout', text: l.slice(2) }));
  }

  /** The run of `cluster` in progress, if any. */
  running(cluster: string): RunRecord | undefined {
    const a = this.#active.get(cluster);
    return a ? { ...a.record } : undefined;
  }

  /** Cancels every run and waits for them to end. */
  async close(): Promise<void> {
    const all = [...this.#active.values()];
    for (const a of all) this.cancel(a.record.cluster, a.record.id);
    await Promise.all(all.map((a) => a.done));
  }

  #runsDir(cluster: string): string {
    return join(this.#store.dir(cluster), 'runs');
  }

  /** The saved config follows what kk did: a deleted node leaves it, an upgrade moves its version. */
  #afterSuccess(r: RunRecord): void {
    try {
      const { config } = this.#store.get(r.cluster);
      if (r.action === 'delete-node' && r.params.node) {
        config.spec.hosts = config.spec.hosts.filter((h) => h.name !== r.params.node);
        for (const [role, members] of Object.entries(config.spec.roleGroups)) {
          config.spec.roleGroups[role] = members.filter((m) => m !== r.params.node);
        }
      } else if (r.action === 'upgrade' && r.params.version) {
        (config.spec.kubernetes ??= {}).version = r.params.version;
      } else return;
      this.#store.save(config, { create: false, allowErrors: true });
    } catch {
      // The config was removed or changed meanwhile; the run's record still says what kk did.
    }
  }
}

function checkParams(action: RunAction, p: RunParams, c: ClusterConfig): RunParams {
  if (action === 'delete-node') {
    const node = typeof p.node === 'string' ? p.node : '';
    if (!c.spec.hosts.some((h) => h.name === node)) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_REQUEST_INVALID',
        `${node || 'the node'} is not a host of ${c.metadata.name}: pick one of ${c.spec.hosts.map((h) => h.name).join(', ')}`,
        { field: 'node' },
      );
    }
    return { node };
  }
  if (action === 'upgrade') {
    const version = typeof p.version === 'string' ? p.version : '';
    if (!/^v\d+\.\d+\.\d+$/.test(version)) {
      throw new ClusterError(
        'SPROUT_ERR_CONSOLE_CLUSTER_REQUEST_INVALID',
        'give the Kubernetes version to upgrade to, such as v1.29.15',
        { field: 'version' },
      );
    }
    return { version };
  }
  return {};
}
