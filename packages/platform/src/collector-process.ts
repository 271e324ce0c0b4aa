import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PushRecord } from '@sprout/collector';
import type { Logger } from '@sprout/observe';
import type { EventBus } from './events.js';

const SCRIPT = fileURLToPath(new URL('../bin/collector.mjs', import.meta.url));

/** An input of the running collector and where it listens. */
export interface CollectorInputInfo {
  id: string;
  plugin: string;
  address?: { host?: string; port?: number; path?: string; grpcPort?: number };
}

export interface CollectorProcessOptions {
  /** The pipeline: a fluent-bit YAML file, or YAML text. */
  pipeline: { configFile: string } | { yaml: string };
  /** Gets the collector's own log lines and the supervisor's. */
  logger: Logger;
  /** Where `collector.crashed` and `collector.restarted` are published. */
  events?: EventBus;
  /** Restart delays: `baseMs` (1 s) after the first failure, doubled each time up to `maxMs` (30 s). */
  backoff?: { baseMs: number; maxMs: number };
}

/** How long a collector must have run for its next failure to count as the first again. */
const STABLE_MS = 60_000;
const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/**
 * The collector of `sprout dev` in a child process (`bin/collector.mjs`): whatever it does at run
 * time (an input's server crashing, running out of memory, being killed) cannot take the gateway,
 * the API or the functions down. When it stops without being asked it is restarted with backoff,
 * logged and published as `collector.crashed` / `collector.restarted`; records pushed meanwhile are
 * counted and reported as dropped when it is back.
 */
export class CollectorProcess {
  readonly #o: CollectorProcessOptions;
  #child: ChildProcess | undefined;
  #inputs: CollectorInputInfo[] = [];
  /** Started and not yet exited: records go to it. */
  #running = false;
  #closing = false;
  #failures = 0;
  #startedAt = 0;
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, (text: string) => void>();

  constructor(o: CollectorProcessOptions) {
    this.#o = o;
  }

  /** The collector process id while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The inputs of the running collector (none while it is down). */
  inputs(): CollectorInputInfo[] {
    return this.#inputs;
  }

  /** Starts the collector; rejects with its coded error (a port taken, say) if it cannot start. */
  start(): Promise<void> {
    return this.#spawn();
  }

  /** Hands records to the collector; while it is down they are counted as dropped. */
  push(records: PushRecord[]): void {
    const child = this.#child;
    if (this.#running && child?.connected) send(child, { type: 'push', records });
    else this.#dropped += records.length;
  }

  /** The collector's Prometheus text; empty while it is down or if it does not answer in 2 s. */
  metricsText(): Promise<string> {
    const child = this.#child;
    if (!this.#running || !child?.connected) return Promise.resolve('');
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(''), 2_000);
      const done = (text: string) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(text);
      };
      this.#pending.set(id, done);
      send(child, { type: 'metrics', id });
    });
  }

  /** Stops restarting, lets the collector flush and close (`graceMs`, then it is killed). */
  async close(graceMs = 30_000): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) send(child, { type: 'close' });
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  #spawn(): Promise<void> {
    const log = this.#o.logger;
    const child = spawn(process.execPath, [SCRIPT], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    this.#child = child;
    this.#inputs = [];
    // A message that cannot be sent (the process just died) is dropped here, never an uncaught error.
    child.on('error', (err) => log.warn({ err }, 'collector process error'));
    createInterface({ input: child.stderr! }).on('line', (line) => relay(log, line));
    child.on('message', (m: { type: string; id?: number; text?: string }) => {
      if (m.type === 'metrics') this.#pending.get(m.id!)?.(m.text ?? '');
    });
    return new Promise<void>((resolve, reject) => {
      const onMessage = (m: {
        type: string;
        inputs?: CollectorInputInfo[];
        code?: string;
        message?: string;
      }) => {
        if (m.type === 'started') {
          child.off('message', onMessage);
          child.off('exit', onEarlyExit);
          child.once('exit', (code, signal) => this.#exited(child, code, signal));
          this.#inputs = m.inputs ?? [];
          this.#running = true;
          this.#startedAt = Date.now();
          for (const i of this.#inputs)
            if (i.address) log.info({ input: i.id, ...i.address }, 'collector input listening');
          resolve();
        } else if (m.type === 'failed') {
          // It exits by itself once the reason is sent; it is no longer this supervisor's.
          child.off('exit', onEarlyExit);
          if (this.#child === child) this.#child = undefined;
          reject(Object.assign(new Error(m.message ?? 'the collector did not start'), { code: m.code }));
        }
      };
      const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.#child === child) this.#child = undefined;
        reject(new Error(`the collector process ended before it started (${signal ?? `exit code ${code}`})`));
      };
      child.on('message', onMessage);
      child.once('exit', onEarlyExit);
      // Not spawned at all (or its channel broke before it started): a rejection after resolve is a no-op.
      child.once('error', reject);
      send(child, { type: 'run', ...this.#o.pipeline });
    });
  }

  #exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#running = false;
    this.#inputs = [];
    for (const done of [...this.#pending.values()]) done('');
    if (this.#closing) return;
    this.#scheduleRestart({ exitCode: code, signal });
  }

  #scheduleRestart(why: Record<string, unknown>): void {
    if (Date.now() - this.#startedAt > STABLE_MS) this.#failures = 0;
    const { baseMs, maxMs } = this.#o.backoff ?? { baseMs: 1_000, maxMs: 30_000 };
    const delay = Math.min(baseMs * 2 ** this.#failures, maxMs);
    this.#failures++;
    this.#o.logger.error(
      { ...why, restartInMs: delay, attempt: this.#failures },
      'the collector stopped; sprout dev keeps serving without it and restarts it',
    );
    this.#o.events?.emit('collector.crashed', { ...why, restartInMs: delay, attempt: this.#failures });
    this.#timer = setTimeout(() => void this.#restart(), delay);
  }

  async #restart(): Promise<void> {
    if (this.#closing) return;
    try {
      await this.#spawn();
    } catch (err) {
      if (!this.#closing) this.#scheduleRestart({ error: (err as Error).message });
      return;
    }
    const dropped = this.#dropped;
    this.#dropped = 0;
    this.#o.logger.warn(
      { pid: this.#child?.pid, attempt: this.#failures, droppedRecords: dropped },
      'collector restarted',
    );
    this.#o.events?.emit('collector.restarted', {
      pid: this.#child?.pid,
      attempt: this.#failures,
      droppedRecords: dropped,
    });
  }
}

/** Sends on the IPC channel; a send that fails (the process is gone) is left to its 'exit'. */
function send(child: ChildProcess, message: object): void {
  child.send(message, (err) => {
    if (err) child.emit('error', err);
  });
}

/** One stderr line of the collector process into the platform's log (its JSON fields kept). */
function relay(log: Logger, line: string): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    if (line.trim()) log.error({ line }, 'collector process output');
    return;
  }
  const { level, msg, time: _time, component: _component, ...fields } = rec;
  const l = typeof level === 'string' && LEVELS.has(level) ? level : 'info';
  (log[l as 'info'] as (o: object, m?: string) => void).call(log, fields, typeof msg === 'string' ? msg : '');
}
