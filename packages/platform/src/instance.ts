import { resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Logger } from '@sprout/observe';
import type { LogTap } from './logs.js';
import { instanceFunction, instanceSpec, needsContext, type InstanceSpec } from '@sprout/framework/instance';
import { resolveRunOptions } from '@sprout/framework';
import type { ResolvedFunction } from '@sprout/spec';
import { spawnStandby } from './standby.js';

export type InstanceState = 'starting' | 'ready' | 'stopping' | 'stopped' | 'crashed' | 'failed';

/** What the API shows about an instance. */
export interface InstanceInfo {
  id: string;
  function: string;
  state: InstanceState;
  pid?: number;
  host: string;
  port: number;
  startedAt: string;
  readyAt?: string;
  exitCode?: number | null;
  lastError?: string;
}

/** Finds a free TCP port on `host` (the OS picks one; a race with another process is retried by the supervisor). */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function tcpProbe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** What the instance runs: its resolved function and the framework options its environment gives, as `sprout run` reads them. */
function specFor(def: ResolvedFunction, o: InstanceOptions, env: NodeJS.ProcessEnv): InstanceSpec {
  const opts = resolveRunOptions({
    timeout:
      def.requestTimeoutSeconds !== undefined
        ? String(def.requestTimeoutSeconds)
        : env.CLOUD_RUN_TIMEOUT_SECONDS,
    ignoredRoutes: env.IGNORED_ROUTES,
    logExecutionId: env.LOG_EXECUTION_ID,
    bodyLimit: env.SPROUT_BODY_LIMIT,
  });
  return instanceSpec(
    [instanceFunction(def)],
    { ...opts, port: o.port, host: o.host },
    { watch: o.watch ?? false, dataDir: resolve(env.SPROUT_DATA_DIR ?? '.sprout') },
  );
}

export interface InstanceOptions {
  id: string;
  def: ResolvedFunction;
  host: string;
  port: number;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Runs the framework with `--watch`: code changes reload in place, a load error answers 503. */
  watch?: boolean;
  /** A pre-started process (see StandbyPool) to run the function in instead of spawning one. */
  standby?: ChildProcess;
  /** Receives every output line (the platform's collector subscribes here). */
  logs?: LogTap;
}

/** Gives a standby process its function; undefined (and the standby killed) if it is gone. */
function handOver(standby: ChildProcess, message: object): ChildProcess | undefined {
  try {
    if (standby.connected) {
      standby.send(message);
      return standby;
    }
  } catch {
    // The channel closed between take() and now: fall through.
  }
  standby.kill('SIGKILL');
  return undefined;
}

/** Epoch milliseconds with sub-millisecond precision (comparable with an instance's own clock). */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/**
 * An instance's start: when the supervisor spawned and handed over (epoch ms, its clock) and marked
 * it ready, and what the instance measured on its own clock (durations, ms).
 */
export interface InstanceTimings {
  /** A new process was spawned because no standby was ready. */
  spawnedAt?: number;
  /** The function was sent to the (standby or new) process. */
  handedAt?: number;
  /** The supervisor marked it ready, by the instance's IPC message or a TCP probe. */
  readyAt?: number;
  readyBy?: 'ipc' | 'probe';
  /** Received to listening, in the instance. */
  startMs?: number;
  /** Received to the module load starting (environment, spec, logger). */
  setupMs?: number;
  /** The function's module graph: its own TypeScript and its dependencies. */
  moduleLoadMs?: number;
  /** Module loaded to listening. */
  listenMs?: number;
  tsCompile?: { hits: number; misses: number; ms: number };
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** One child process running the functions framework for one function. */
export class Instance {
  readonly info: InstanceInfo;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  private readonly log: Logger;
  /** When each step of this instance's start happened (epoch ms), for the cold-start breakdown. */
  readonly timings: InstanceTimings = {};
  private probing = false;
  private onReady?: () => void;
  /** Set when the readiness probe passes. */
  readonly ready: Promise<void>;

  constructor(private readonly o: InstanceOptions) {
    const { def } = o;
    this.log = o.logger.child({ function: def.name, instance: o.id });
    this.info = {
      id: o.id,
      function: def.name,
      state: 'starting',
      host: o.host,
      port: o.port,
      startedAt: new Date().toISOString(),
    };
    this.ready = new Promise((resolve) => (this.onReady = resolve));
    const env: NodeJS.ProcessEnv = { ...o.env, ...def.env, SPROUT_LOG_FORMAT: 'json' };
    // Informational for the function's own code; the instance takes its context from the spec.
    if (needsContext(def)) env.FUNC_CONTEXT = JSON.stringify(def.context);
    else delete env.FUNC_CONTEXT;
    for (const k of ['PORT', 'HOST', 'FUNCTION_TARGET', 'FUNCTION_SIGNATURE_TYPE', 'FUNCTION_SOURCE']) {
      if (!(k in def.env)) delete env[k];
    }
    // The one message the instance gets: the resolved function and the framework's options, nothing
    // left to parse. A pre-started process from the pool takes it, else a new one once it has loaded.
    const message = { spec: specFor(def, o, env), env, cwd: def.dir };
    const ready = o.standby && handOver(o.standby, message);
    if (ready) {
      this.child = ready;
      this.timings.handedAt = epochMs();
    } else {
      // No pre-started process: this one pays Node's start and the framework's import first.
      const child = spawnStandby(env);
      this.timings.spawnedAt = epochMs();
      child.once('message', () => {
        this.timings.handedAt = epochMs();
        handOver(child, message);
      });
      this.child = child;
    }
    // The instance says it listens over IPC (see bin/standby.mjs): ready at once, no probe.
    this.child.on('message', (m: { type?: string; timings?: InstanceTimings }) => {
      if (m?.type !== 'serving') return;
      Object.assign(this.timings, m.timings);
      this.becameReady('ipc');
    });
    if (this.child.pid !== undefined) this.info.pid = this.child.pid;
    this.capture(this.child.stdout!, 'stdout');
    this.capture(this.child.stderr!, 'stderr');
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.info.exitCode = code ?? (signal ? null : code);
        resolve();
      });
      this.child.once('error', (err) => {
        this.info.lastError = err.message;
        resolve();
      });
    });
  }

  /**
   * Probes TCP readiness every `intervalMs` until it passes or the instance leaves `starting`: the
   * fallback when the `serving` log line comes before (or without) the IPC message.
   */
  async probe(intervalMs = 25): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    while (this.info.state === 'starting') {
      if (await tcpProbe(this.o.host, this.o.port)) {
        this.becameReady('probe');
        break;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    this.probing = false;
  }

  private becameReady(by: 'ipc' | 'probe'): void {
    if (this.info.state !== 'starting') return;
    this.timings.readyAt = epochMs();
    this.timings.readyBy = by;
    this.info.state = 'ready';
    this.info.readyAt = new Date().toISOString();
    this.onReady?.();
  }

  /** SIGTERM (the framework finishes in-flight requests), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(t);
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private capture(stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void {
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', (line) => {
      if (!line) return;
      const tap = this.o.logs;
      if (tap) {
        tap.emit({
          time: BigInt(Date.now()) * 1_000_000n,
          function: this.info.function,
          namespace: this.o.def.namespace,
          instance: this.info.id,
          stream: name,
          line,
        });
      }
      let rec: Record<string, unknown> | undefined;
      if (line.startsWith('{')) {
        try {
          const v = JSON.parse(line) as unknown;
          if (v && typeof v === 'object' && !Array.isArray(v)) rec = v as Record<string, unknown>;
        } catch {
          rec = undefined;
        }
      }
      if (!rec) {
        if (name === 'stderr' && line.startsWith('error: ')) this.info.lastError = line.slice(7);
        this.log.info({ stream: name }, line);
        return;
      }
      const { level, msg, time: _time, component: _c, pid: _p, hostname: _h, ...own } = rec;
      const fields = this.relayed(own, name);
      const lvl = (typeof level === 'string' && LEVELS.has(level) ? level : 'info') as
        'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
      const text = typeof msg === 'string' ? msg : typeof rec.message === 'string' ? rec.message : line;
      if (lvl === 'error' || lvl === 'fatal') {
        const err = fields.err as { message?: string; code?: string } | undefined;
        this.info.lastError = err?.message ? `${err.code ? `${err.code}: ` : ''}${err.message}` : text;
      }
      if (msg === 'serving') void this.probe();
      this.log[lvl](fields, text);
    });
  }

  /**
   * The fields of an instance's JSON line as the relay writes them: the relay's labels (`function`,
   * `instance`, `stream`) say where the line came from and win; a field of the line's own under one
   * of those names (or under `record`) that says something else is kept under `record`.
   */
  private relayed(own: Record<string, unknown>, stream: 'stdout' | 'stderr'): Record<string, unknown> {
    const labels: Record<string, unknown> = { function: this.info.function, instance: this.info.id, stream };
    const fields: [string, unknown][] = [['stream', stream]];
    const record: [string, unknown][] = [];
    for (const [k, v] of Object.entries(own)) {
      const label = Object.hasOwn(labels, k);
      if (k === 'record' || (label && v !== labels[k])) record.push([k, v]);
      else if (!label) fields.push([k, v]);
    }
    if (record.length) fields.push(['record', Object.fromEntries(record)]);
    return Object.fromEntries(fields);
  }
}
