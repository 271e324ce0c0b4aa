import type { Logger } from '@sprout/observe';
import type { GatewayErrorCode } from './errors.js';
import type { FunctionUpstream, InstanceEndpoint, ScalingPolicy } from './upstream.js';
import {
  DurationCounts,
  type FunctionGaugeSource,
  type GatewayMetrics,
  type RejectReason,
} from './metrics.js';
import type { ResolvedRouteOptions } from './options.js';
import { Scaler } from './scaler.js';

/** What the gateway knows about one function right now (for the platform's API). */
export interface FunctionStatus {
  name: string;
  pending: number;
  concurrency: number;
  rate: number;
  desiredReplicas: number;
  readyInstances: number;
  /** The last failure the gateway saw for this function (readiness timeout, instance failure). */
  lastError: { code: GatewayErrorCode; message: string; at: string } | undefined;
}

/** A route as the request path uses it: its function and its options. */
export interface CompiledRoute {
  slot: FunctionSlot;
  opts: ResolvedRouteOptions;
}

/** What a held request does when it leaves the queue. */
export interface WaitHandlers {
  /** An instance is ready (never one in `exclude`). */
  ready(instance: InstanceEndpoint): void;
  /** The readiness wait expired (already logged and counted). */
  timeout(): void;
  /** The gateway gave up on the request (shutdown, route removed). */
  fail(status: number, code: GatewayErrorCode, message: string): void;
}

/** A request waiting for a ready instance. */
export interface Waiter extends Pick<WaitHandlers, 'ready' | 'fail'> {
  exclude: Set<string> | undefined;
}

/** One outstanding-request counter per instance id. */
interface Load {
  outstanding: number;
}

/**
 * What the gateway keeps per function: its scaler, its held requests, outstanding requests per
 * instance for least-outstanding balancing, and its metric handles.
 */
export class FunctionSlot implements FunctionGaugeSource {
  readonly name: string;
  scaler: Scaler;
  readonly queue: Waiter[] = [];
  inflight = 0;
  private peak = 0;
  requested = -1;
  private readonly loads = new Map<string, Load>();
  private rr = 0;
  private coldSince = 0;
  private readonly unsubscribe: () => void;
  readonly byClass = [0, 0, 0, 0, 0, 0];
  lastError: { code: GatewayErrorCode; message: string; at: string } | undefined;
  readonly rejected: Partial<Record<RejectReason, number>> = {};
  readonly durations = new DurationCounts();

  constructor(
    readonly upstream: FunctionUpstream,
    private policy: ScalingPolicy,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    field = 'scaling',
  ) {
    this.name = upstream.name;
    this.scaler = new Scaler(policy, field);
    this.unsubscribe = upstream.onInstancesChanged(() => this.drain());
  }

  /** Least outstanding requests among ready instances, round-robin among ties; skips `exclude`. */
  pick(exclude?: Set<string>): InstanceEndpoint | undefined {
    const list = this.upstream.instances();
    const n = list.length;
    if (n === 0) return undefined;
    let best: InstanceEndpoint | undefined;
    let bestLoad = Infinity;
    const start = this.rr++ % n;
    for (let k = 0; k < n; k++) {
      const inst = list[(start + k) % n]!;
      if (exclude?.has(inst.id)) continue;
      const load = this.loads.get(inst.id)?.outstanding ?? 0;
      if (load < bestLoad) {
        best = inst;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    return best;
  }

  /** Marks a request started on `id`; the returned function marks it finished. */
  acquire(id: string): () => void {
    let load = this.loads.get(id);
    if (!load) {
      load = { outstanding: 0 };
      this.loads.set(id, load);
    }
    load.outstanding++;
    const l = load;
    return () => {
      if (--l.outstanding === 0 && this.loads.get(id) === l) this.loads.delete(id);
    };
  }

  /** A request for this function arrived (counts toward concurrency and rate). */
  begin(now: number): void {
    this.scaler.recordRequest(now);
    if (++this.inflight > this.peak) this.peak = this.inflight;
  }

  end(status: number): void {
    this.inflight--;
    const cls = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
    this.byClass[cls]!++;
  }

  /** An HTTP request of this function took `ms`, from arrival to its response finished. */
  took(ms: number): void {
    this.durations.observe(ms / 1000);
  }

  noteError(code: GatewayErrorCode, message: string): void {
    this.lastError = { code, message, at: new Date().toISOString() };
  }

  reject(reason: RejectReason): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
  }

  /**
   * Holds a request until an instance is ready or `timeoutMs` passes; returns a function that
   * drops it (the client went away).
   */
  wait(timeoutMs: number, h: WaitHandlers, exclude: Set<string> | undefined, now: number): () => void {
    const timer = setTimeout(() => {
      this.unhold(w);
      this.reject('readiness_timeout');
      this.noteError(
        'SPROUT_ERR_GATEWAY_READINESS_TIMEOUT',
        `no instance became ready within ${timeoutMs} ms`,
      );
      this.log.error(
        { function: this.name, readinessTimeoutMs: timeoutMs, code: 'SPROUT_ERR_GATEWAY_READINESS_TIMEOUT' },
        `function ${this.name} did not become ready within ${timeoutMs} ms`,
      );
      h.timeout();
    }, timeoutMs);
    const w: Waiter = {
      exclude,
      ready(inst) {
        clearTimeout(timer);
        h.ready(inst);
      },
      fail(status, code, message) {
        clearTimeout(timer);
        h.fail(status, code, message);
      },
    };
    this.hold(w, now);
    return () => {
      clearTimeout(timer);
      if (this.unhold(w)) this.reject('client_gone');
    };
  }

  private hold(waiter: Waiter, now: number): void {
    if (this.queue.length === 0 && this.coldSince === 0) this.coldSince = now;
    this.queue.push(waiter);
    if (this.requested < 1) this.tick(now, 'request held while no instance is ready');
  }

  private unhold(waiter: Waiter): boolean {
    const i = this.queue.indexOf(waiter);
    if (i !== -1) this.queue.splice(i, 1);
    if (this.queue.length === 0) this.coldSince = 0;
    return i !== -1;
  }

  /** Hands held requests to ready instances. */
  drain(): void {
    if (this.queue.length === 0) return;
    const now = performance.now();
    const coldMs = this.coldSince > 0 ? now - this.coldSince : 0;
    let served = 0;
    for (let i = 0; i < this.queue.length;) {
      const w = this.queue[i]!;
      const inst = this.pick(w.exclude);
      if (!inst) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      served++;
      w.ready(inst);
    }
    if (served > 0 && this.coldSince > 0) {
      this.metrics.coldStarts.labels({ function: this.name }).inc();
      this.metrics.coldStartSeconds.labels({ function: this.name }).observe(coldMs / 1000);
      this.log.info({ function: this.name, coldStartMs: Math.round(coldMs), served }, 'cold start served');
      this.coldSince = this.queue.length > 0 ? now : 0;
    }
  }

  /** One scaling decision; calls `scaleTo` when the wanted count changes. */
  tick(now: number, why?: string): void {
    const d = this.scaler.decide(now, Math.max(this.peak, this.inflight));
    this.peak = this.inflight;
    if (d.replicas !== this.requested) {
      const reason = why ?? d.reason;
      this.log.info(
        { function: this.name, from: Math.max(this.requested, 0), to: d.replicas, reason },
        'scale decision',
      );
      this.requested = d.replicas;
      this.upstream.scaleTo(d.replicas, reason);
    }
    this.drain();
  }

  /** Takes a new policy; keeps the scaler (and its rate window) when the policy is unchanged. */
  setPolicy(policy: ScalingPolicy, field: string): void {
    if (JSON.stringify(policy) === JSON.stringify(this.policy)) return;
    this.scaler = new Scaler(policy, field);
    this.policy = policy;
  }

  /** Gives up on every held request. */
  failAll(status: number, code: GatewayErrorCode, message: string): void {
    const held = this.queue.splice(0);
    this.coldSince = 0;
    for (const w of held) w.fail(status, code, message);
  }

  close(): void {
    this.unsubscribe();
  }

  pending(): number {
    return this.queue.length;
  }
  concurrency(): number {
    return this.inflight;
  }
  rate(): number {
    return this.scaler.rate(performance.now());
  }
  desiredReplicas(): number {
    return Math.max(this.requested, 0);
  }
  readyInstances(): number {
    return this.upstream.instances().length;
  }

  status(): FunctionStatus {
    return {
      name: this.name,
      pending: this.pending(),
      concurrency: this.concurrency(),
      rate: this.rate(),
      desiredReplicas: this.desiredReplicas(),
      readyInstances: this.readyInstances(),
      lastError: this.lastError,
    };
  }
}
