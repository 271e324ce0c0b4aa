/**
 * A test FunctionUpstream that runs real child processes: each instance is a spawned HTTP server, ready once
 * it announces its port. It reconciles asynchronously like the platform's supervisor does: starts
 * instances up to the wanted count, drains (SIGTERM) extras after taking them out of `instances()`,
 * and restarts instances that crash while the wanted count is above the live count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FunctionUpstream, InstanceEndpoint } from '@sprout/gateway';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixtureServer = fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url));

interface Instance extends InstanceEndpoint {
  child: ChildProcess;
  ready: boolean;
  stopping: boolean;
}

export interface ProcessUpstreamOptions {
  /** Command and arguments of one instance (default: the fixture server). */
  command?: string[];
  env?: Record<string, string>;
  /** Pulls the port from one line of the child's output; the instance is ready then. */
  readyLine?: (line: string) => number | undefined;
}

export class ProcessUpstream implements FunctionUpstream {
  readonly scaleCalls: { replicas: number; reason: string }[] = [];
  spawned = 0;
  private wanted = 0;
  private seq = 0;
  private readonly live: Instance[] = [];
  private readonly listeners = new Set<() => void>();
  private closed = false;

  constructor(
    readonly name: string,
    private readonly options: ProcessUpstreamOptions = {},
  ) {}

  instances(): readonly InstanceEndpoint[] {
    return this.live.filter((i) => i.ready && !i.stopping);
  }

  scaleTo(replicas: number, reason: string): void {
    this.scaleCalls.push({ replicas, reason });
    this.wanted = replicas;
    this.reconcile();
  }

  onInstancesChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replicas alive (starting or ready, not stopping). */
  get alive(): number {
    return this.live.filter((i) => !i.stopping).length;
  }

  /** Kills an instance with SIGKILL (a crash). */
  crash(id: string): void {
    this.live.find((i) => i.id === id)?.child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wanted = 0;
    await Promise.all(
      this.live.map(
        (i) =>
          new Promise<void>((resolve) => {
            if (i.child.exitCode !== null || i.child.signalCode !== null) return resolve();
            i.child.once('exit', () => resolve());
            i.child.kill('SIGKILL');
          }),
      ),
    );
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  private reconcile(): void {
    if (this.closed) return;
    while (this.alive < this.wanted) this.start();
    const extra = this.alive - this.wanted;
    if (extra > 0) {
      const victims = this.live.filter((i) => !i.stopping).sort((a, b) => Number(a.ready) - Number(b.ready));
      for (const v of victims.slice(0, extra)) {
        v.stopping = true;
        v.child.kill('SIGTERM');
      }
      this.emit();
    }
  }

  private start(): void {
    const [cmd, ...args] = this.options.command ?? [process.execPath, fixtureServer];
    const child = spawn(cmd!, args, {
      cwd: repoRoot,
      env: { ...process.env, INSTANCE_NAME: this.name, SPROUT_LOG_FORMAT: 'json', ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.spawned++;
    const inst: Instance = {
      id: `${this.name}-${++this.seq}`,
      host: '127.0.0.1',
      port: 0,
      child,
      ready: false,
      stopping: false,
    };
    this.live.push(inst);
    const parse =
      this.options.readyLine ?? ((line: string) => Number(/^READY (\d+)/.exec(line)?.[1]) || undefined);
    let buf = '';
    const onData = (d: Buffer) => {
      if (inst.ready) return;
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const port = parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (port && !inst.ready) {
          inst.port = port;
          inst.ready = true;
          if (!inst.stopping) this.emit();
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => {
      const i = this.live.indexOf(inst);
      if (i !== -1) this.live.splice(i, 1);
      if (inst.ready && !inst.stopping) this.emit();
      if (!inst.stopping) this.reconcile();
    });
  }
}

/** Reads the port from the framework's "serving" log line. */
export function frameworkReadyLine(line: string): number | undefined {
  if (!line.includes('"msg":"serving"')) return undefined;
  return Number(/"url":"http:\/\/[^:]+:(\d+)\//.exec(line)?.[1]) || undefined;
}
