import { warmCompileCacheOffThread } from '@sprout/framework/instance';
import type { Logger } from '@sprout/observe';
import type { ResolvedFunction } from '@sprout/spec';
import type { EventBus, PlatformEventType } from './events.js';
import { coldStartBreakdown } from './cold-start.js';
import { epochMs, freePort, Instance, type InstanceInfo } from './instance.js';
import type { LogTap } from './logs.js';
import type { StandbyPool } from './standby.js';

export interface RunnerOptions {
  host: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  events: EventBus;
  watch?: boolean;
  standby?: StandbyPool;
  logs?: LogTap;
}

/** What the API shows about a function's runtime state. */
export interface RunnerStatus {
  desiredReplicas: number;
  readyReplicas: number;
  /** The last start-up or crash error, cleared when an instance becomes ready. */
  lastError?: string;
  lastErrorCode?: string;
  restarts: number;
}

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** An instance that stayed ready this long resets the crash backoff. */
const HEALTHY_AFTER_MS = 5_000;

/**
 * Supervises one function's instances: keeps `desired` of them running, probes readiness before
 * traffic, restarts crashed ones with exponential backoff, drains the ones it stops.
 */
export class FunctionRunner {
  private desired: number;
  private readonly live = new Map<string, Instance>();
  private readonly stopping = new Set<Promise<void>>();
  private readonly listeners = new Set<() => void>();
  private seq = 0;
  private failures = 0;
  private nextStartAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private coldSince: number | undefined;
  private closed = false;
  private restarts = 0;
  private lastError: string | undefined;
  private lastErrorCode: string | undefined;
  /** The count the gateway's scaler last asked for (undefined until it asks). */
  private gatewayDesired: number | undefined;
  private overrideTimer: NodeJS.Timeout | undefined;
  /** When the API last asked for a count of its own. */
  private overrideSince = 0;

  constructor(
    readonly def: ResolvedFunction,
    private readonly o: RunnerOptions,
  ) {
    this.desired = def.scaling.minReplicas;
    this.reconcile();
    // The first cold start finds the function's TypeScript compiled: compile it now, on a thread.
    warmCompileCacheOffThread(def.dir, { ...o.env, ...def.env }.SPROUT_CACHE_DIR);
  }

  get name(): string {
    return this.def.name;
  }

  /** Ready instances, as the gateway's Backend wants them. */
  readyInstances(): Instance[] {
    return [...this.live.values()].filter((i) => i.info.state === 'ready');
  }

  instances(): InstanceInfo[] {
    return [...this.live.values()].map((i) => ({ ...i.info }));
  }

  status(): RunnerStatus {
    return {
      desiredReplicas: this.desired,
      readyReplicas: this.readyInstances().length,
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.lastErrorCode ? { lastErrorCode: this.lastErrorCode } : {}),
    };
  }

  onInstancesChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Asks for `replicas` instances, clamped to min/max; reconciles asynchronously. `source` says who
   * asks: the gateway's scaler owns the count (it sees every request, invokes through the API
   * included), or for an async function the lag scaler (`triggers`), which takes the gateway's demand
   * as one of its inputs; a count from the API is an override that holds until the function has been idle for
   * `scaledownPeriod`, then the gateway's count returns. While the API asked for more than the
   * gateway, a gateway count in between (demand, not idle) keeps the override; the gateway's
   * minimum (idle) or a count at or above the override ends it.
   */
  scaleTo(replicas: number, reason: string, source: 'gateway' | 'triggers' | 'api' = 'api'): number {
    if (this.closed) return 0;
    const { minReplicas, maxReplicas } = this.def.scaling;
    const target = Math.max(minReplicas, Math.min(maxReplicas, Math.floor(replicas)));
    if (source !== 'api') {
      this.gatewayDesired = target;
      if (this.overrideTimer && target > minReplicas && target < this.desired) return this.desired;
      clearTimeout(this.overrideTimer);
      this.overrideTimer = undefined;
    } else if (target !== (this.gatewayDesired ?? minReplicas)) this.holdOverride();
    if (target !== this.desired) {
      const from = this.desired;
      this.desired = target;
      this.emit('scale', { from, to: target, reason, source });
      this.o.logger.info({ function: this.name, from, to: target, reason, source }, 'scale');
    }
    this.reconcile();
    return target;
  }

  private holdOverride(): void {
    this.overrideSince = Date.now();
    if (this.overrideTimer) return;
    const { scaledownPeriodMs: period, minReplicas } = this.def.scaling;
    const check = () => {
      // Above the gateway's count, the override holds while the gateway still sees demand.
      const gateway = this.gatewayDesired ?? minReplicas;
      const busy = this.desired > gateway && gateway > minReplicas;
      const idleFor = Date.now() - this.overrideSince;
      if (busy || idleFor < period) {
        this.overrideTimer = setTimeout(check, busy ? period : period - idleFor);
        this.overrideTimer.unref();
        return;
      }
      this.overrideTimer = undefined;
      const back = this.gatewayDesired ?? this.def.scaling.minReplicas;
      this.scaleTo(back, `idle for ${period} ms after a scale from the API`, 'gateway');
    };
    this.overrideTimer = setTimeout(check, period);
    this.overrideTimer.unref();
  }

  /** Stops every instance (draining them) and stops restarting. */
  async close(): Promise<void> {
    this.closed = true;
    this.desired = 0;
    clearTimeout(this.retryTimer);
    clearTimeout(this.overrideTimer);
    for (const inst of [...this.live.values()]) this.stopInstance(inst, 'platform stopping');
    await Promise.all([...this.stopping]);
  }

  /**
   * Publishes an event about this function with its status after the change (`status`), so a
   * reader such as the console's list updates the function's row without reading the list again.
   */
  private emit(type: PlatformEventType, fields: Record<string, unknown>): void {
    this.o.events.emit(type, { function: this.name, ...fields, status: this.status() });
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  private active(): Instance[] {
    return [...this.live.values()].filter((i) => i.info.state === 'starting' || i.info.state === 'ready');
  }

  private reconcile(): void {
    if (this.closed) return;
    const active = this.active();
    if (active.length > this.desired) {
      // Stop the ones not yet serving first, then the newest.
      const order = active.sort(
        (a, b) =>
          Number(a.info.state === 'ready') - Number(b.info.state === 'ready') ||
          b.info.startedAt.localeCompare(a.info.startedAt),
      );
      for (const inst of order.slice(0, active.length - this.desired)) this.stopInstance(inst, 'scaled down');
      return;
    }
    if (active.length === this.desired) return;
    const wait = this.nextStartAt - Date.now();
    if (wait > 0) {
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.reconcile();
        }, wait);
      }
      return;
    }
    if (this.readyInstances().length === 0 && this.coldSince === undefined) this.coldSince = epochMs();
    for (let n = active.length; n < this.desired; n++) void this.startInstance();
  }

  private async startInstance(): Promise<void> {
    const id = `${this.name}-${++this.seq}`;
    // Reserve the slot before the port lookup so reconcile does not start extra instances.
    const info: InstanceInfo = {
      id,
      function: this.name,
      state: 'starting',
      host: this.o.host,
      port: 0,
      startedAt: new Date().toISOString(),
    };
    const placeholder = { info } as Instance;
    this.live.set(id, placeholder);
    let port: number;
    try {
      port = await freePort(this.o.host);
    } catch (err) {
      this.live.delete(id);
      this.fail('SPROUT_ERR_PLATFORM_INSTANCE_EXITED', `no free port: ${(err as Error).message}`);
      return;
    }
    if (this.closed || this.live.get(id) !== placeholder) {
      this.live.delete(id);
      return;
    }
    const standby = this.o.standby?.take();
    const inst = new Instance({
      id,
      def: this.def,
      host: this.o.host,
      port,
      env: this.o.env,
      logger: this.o.logger,
      ...(this.o.watch ? { watch: true } : {}),
      ...(standby ? { standby } : {}),
      ...(this.o.logs ? { logs: this.o.logs } : {}),
    });
    this.live.set(id, inst);
    this.emit('instance.started', { instance: id, pid: inst.info.pid, port, standby: standby !== undefined });
    const timer = setTimeout(() => {
      if (inst.info.state !== 'starting') return;
      inst.info.state = 'failed';
      const msg = `instance ${id} of "${this.name}" did not become ready within ${this.def.readinessTimeoutMs} ms${inst.info.lastError ? ` (last error: ${inst.info.lastError})` : ''}`;
      inst.info.lastError = msg;
      this.o.logger.error(
        { function: this.name, instance: id, code: 'SPROUT_ERR_PLATFORM_READINESS_TIMEOUT' },
        msg,
      );
      this.fail('SPROUT_ERR_PLATFORM_READINESS_TIMEOUT', msg);
      this.emit('instance.failed', {
        instance: id,
        code: 'SPROUT_ERR_PLATFORM_READINESS_TIMEOUT',
        error: msg,
      });
      inst.kill();
    }, this.def.readinessTimeoutMs);
    void inst.ready.then(() => {
      clearTimeout(timer);
      this.lastError = undefined;
      this.lastErrorCode = undefined;
      this.emit('instance.ready', { instance: id, port });
      if (this.coldSince !== undefined) {
        const durationMs = Math.round(epochMs() - this.coldSince);
        const breakdown = coldStartBreakdown(this.coldSince, inst.timings);
        this.coldSince = undefined;
        this.emit('cold-start', { instance: id, durationMs, breakdown });
      }
      this.changed();
    });
    void inst.probe();
    void inst.exited.then(() => {
      clearTimeout(timer);
      this.onExit(inst);
    });
  }

  private onExit(inst: Instance): void {
    const { id, state } = inst.info;
    if (this.live.get(id) === inst) this.live.delete(id);
    if (state === 'stopping') {
      inst.info.state = 'stopped';
      this.emit('instance.stopped', { instance: id, exitCode: inst.info.exitCode });
      this.changed();
      return;
    }
    if (state === 'failed') {
      this.changed();
      this.reconcile();
      return;
    }
    const wasReady = state === 'ready';
    inst.info.state = 'crashed';
    const msg = `instance ${id} of "${this.name}" exited with code ${String(inst.info.exitCode)}${inst.info.lastError ? `: ${inst.info.lastError}` : ''}`;
    this.o.logger.error(
      { function: this.name, instance: id, code: 'SPROUT_ERR_PLATFORM_INSTANCE_EXITED', wasReady },
      msg,
    );
    const healthy =
      wasReady &&
      inst.info.readyAt !== undefined &&
      Date.now() - Date.parse(inst.info.readyAt) >= HEALTHY_AFTER_MS;
    if (healthy) this.failures = 0;
    this.fail('SPROUT_ERR_PLATFORM_INSTANCE_EXITED', msg);
    this.emit('instance.crashed', { instance: id, exitCode: inst.info.exitCode, wasReady, error: msg });
    this.changed();
    this.reconcile();
  }

  private fail(code: string, message: string): void {
    this.lastError = message;
    this.lastErrorCode = code;
    this.restarts++;
    this.failures++;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
    this.nextStartAt = Date.now() + delay;
  }

  private stopInstance(inst: Instance, reason: string): void {
    if (inst.info.state === 'stopping' || inst.info.state === 'stopped') return;
    if (!inst.child) {
      // Still reserving a port: dropping the reservation cancels the start.
      this.live.delete(inst.info.id);
      return;
    }
    inst.info.state = 'stopping';
    this.emit('instance.stopping', { instance: inst.info.id, reason });
    this.changed();
    const p = inst.stop(this.def.drainTimeoutMs).then(() => {
      this.stopping.delete(p);
    });
    this.stopping.add(p);
  }
}
