import type { Logger } from '@sprout/observe';
import type { GatewayErrorCode } from './errors.js';
import type { Backend, InstanceEndpoint, ScalingPolicy } from './backend.js';
import type { FunctionGaugeSource, GatewayMetrics, RejectReason } from './metrics.js';
import { Scaler } from './scaler.js';

/** A request waiting for a ready instance. */
export interface Waiter {
  /** Called with an instance once one is ready (never with one in `exclude`). */
  ready(instance: InstanceEndpoint): void;
  /** Called when the gateway gives up on the request (shutdown, route removed). */
  fail(status: number, code: GatewayErrorCode, message: string): void;
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
export class FunctionState implements FunctionGaugeSource {
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
  private readonly counters: {
    code: Map<number, { inc(): void }>;
    rejected: Map<RejectReason, { inc(): void }>;
  };

  constructor(
    readonly backend: Backend,
    private policy: ScalingPolicy,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    field = 'scaling',
  ) {
    this.name = backend.name;
    this.scaler = new Scaler(policy, field);
    this.counters = { code: new Map(), rejected: new Map() };
    this.unsubscribe = backend.onInstancesChanged(() => this.drain());
  }

  /** Least outstanding requests among ready instances, round-robin among ties; skips `exclude`. */
  pick(exclude?: Set<string>): InstanceEndpoint | undefined {
    const list = this.backend.instances();
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
    const cls = Math.floor(status / 100);
    let c = this.counters.code.get(cls);
    if (!c) {
      c = this.metrics.requests.labels({ function: this.name, code: status > 0 ? `${cls}xx` : 'none' });
      this.counters.code.set(cls, c);
    }
    c.inc();
  }

  reject(reason: RejectReason): void {
    let c = this.counters.rejected.get(reason);
    if (!c) {
      c = this.metrics.rejected.labels({ function: this.name, reason });
      this.counters.rejected.set(reason, c);
    }
    c.inc();
  }

  /** Holds a waiter; asks the backend for an instance now rather than at the next tick. */
  hold(waiter: Waiter, now: number): void {
    if (this.queue.length === 0 && this.coldSince === 0) this.coldSince = now;
    this.queue.push(waiter);
    if (this.requested < 1) this.tick(now, 'request held while no instance is ready');
  }

  /** Drops a waiter that gave up (timeout, client gone). */
  unhold(waiter: Waiter): void {
    const i = this.queue.indexOf(waiter);
    if (i !== -1) this.queue.splice(i, 1);
    if (this.queue.length === 0) this.coldSince = 0;
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
      this.backend.scaleTo(d.replicas, reason);
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
    return this.backend.instances().length;
  }
}
