import type { ScalingPolicy } from './upstream.js';
import { GatewayError } from './errors.js';

/** KEDA HTTPScaledObject defaults, in milliseconds where KEDA uses durations. */
export const SCALING_DEFAULTS = {
  minReplicas: 0,
  maxReplicas: 100,
  targetConcurrency: 100,
  targetRate: 100,
  rateWindowMs: 60_000,
  rateGranularityMs: 1_000,
  scaledownPeriodMs: 300_000,
} as const;

/**
 * Requests counted in buckets of `granularityMs` over a sliding `windowMs`; the rate is the
 * requests in the window divided by the window's length, in requests per second.
 */
export class RateWindow {
  private readonly counts: Float64Array;
  private readonly stamps: Float64Array;

  constructor(
    readonly windowMs: number,
    readonly granularityMs: number,
  ) {
    const n = Math.max(1, Math.ceil(windowMs / granularityMs));
    this.counts = new Float64Array(n);
    this.stamps = new Float64Array(n).fill(-1);
  }

  add(now: number, n = 1): void {
    const bucket = Math.floor(now / this.granularityMs);
    const slot = bucket % this.counts.length;
    if (this.stamps[slot] !== bucket) {
      this.stamps[slot] = bucket;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += n;
  }

  /** Requests per second over the window ending at `now`. */
  rate(now: number): number {
    const bucket = Math.floor(now / this.granularityMs);
    const oldest = bucket - this.counts.length;
    let sum = 0;
    for (let i = 0; i < this.counts.length; i++) if (this.stamps[i]! > oldest) sum += this.counts[i]!;
    return sum / (this.windowMs / 1000);
  }
}

/** One scaling decision and why it was made. */
export interface ScaleDecision {
  /** Replicas wanted now, within min/max, held up for scaledownPeriod after demand fell. */
  replicas: number;
  /** What demand alone asks for (before min/max and the scale-down hold). */
  demand: number;
  concurrency: number;
  rate: number;
  reason: string;
}

/** A ScalingPolicy with every default filled in. */
export type ResolvedPolicy = Required<ScalingPolicy> & { useConcurrency: boolean; useRate: boolean };

/** Fills KEDA's defaults in and checks the numbers; the concurrency metric applies when neither target is set. */
export function resolvePolicy(policy: ScalingPolicy, field = 'scaling'): ResolvedPolicy {
  const useRate = policy.targetRate !== undefined;
  const useConcurrency = policy.targetConcurrency !== undefined || !useRate;
  const p = {
    minReplicas: policy.minReplicas ?? SCALING_DEFAULTS.minReplicas,
    maxReplicas: policy.maxReplicas ?? SCALING_DEFAULTS.maxReplicas,
    targetConcurrency: policy.targetConcurrency ?? SCALING_DEFAULTS.targetConcurrency,
    targetRate: policy.targetRate ?? SCALING_DEFAULTS.targetRate,
    rateWindowMs: policy.rateWindowMs ?? SCALING_DEFAULTS.rateWindowMs,
    rateGranularityMs: policy.rateGranularityMs ?? SCALING_DEFAULTS.rateGranularityMs,
    scaledownPeriodMs: policy.scaledownPeriodMs ?? SCALING_DEFAULTS.scaledownPeriodMs,
    useConcurrency,
    useRate,
  };
  const check = (ok: boolean, name: string, what: string) => {
    if (!ok) {
      throw new GatewayError('SPROUT_ERR_GATEWAY_INVALID_ROUTE', `${field}.${name} ${what}`, {
        field: `${field}.${name}`,
      });
    }
  };
  const int = (v: number) => Number.isInteger(v) && v >= 0;
  check(int(p.minReplicas), 'minReplicas', 'must be a whole number ≥ 0');
  check(int(p.maxReplicas) && p.maxReplicas >= 1, 'maxReplicas', 'must be a whole number ≥ 1');
  check(p.minReplicas <= p.maxReplicas, 'minReplicas', `must not exceed maxReplicas (${p.maxReplicas})`);
  check(p.targetConcurrency > 0, 'targetConcurrency', 'must be > 0');
  check(p.targetRate > 0, 'targetRate', 'must be > 0');
  check(p.rateGranularityMs > 0, 'rateGranularityMs', 'must be > 0');
  check(p.rateWindowMs >= p.rateGranularityMs, 'rateWindowMs', 'must be ≥ rateGranularityMs');
  check(p.scaledownPeriodMs >= 0, 'scaledownPeriodMs', 'must be ≥ 0');
  return p;
}

/**
 * The scaler for one function, pure: it is told about requests and concurrency samples with the
 * time they happened and answers how many replicas the function should have.
 *
 * Demand is `ceil(concurrency / targetConcurrency)` and/or `ceil(rate / targetRate)`, combined by
 * max, clamped to min/max replicas. Scaling up is immediate; scaling down (to zero included) only
 * happens once every decision over the last `scaledownPeriodMs` asked for fewer replicas.
 *
 * @example
 * const s = new Scaler({ minReplicas: 0, maxReplicas: 5, targetConcurrency: 10 });
 * s.decide(0, 25).replicas; // 3
 */
export class Scaler {
  readonly policy: ResolvedPolicy;
  private readonly window: RateWindow;
  /** Recent decisions, times increasing and replicas strictly decreasing: the front is the max. */
  private readonly held: { t: number; r: number }[] = [];

  constructor(policy: ScalingPolicy, field = 'scaling') {
    this.policy = resolvePolicy(policy, field);
    this.window = new RateWindow(this.policy.rateWindowMs, this.policy.rateGranularityMs);
  }

  recordRequest(now: number, n = 1): void {
    this.window.add(now, n);
  }

  rate(now: number): number {
    return this.window.rate(now);
  }

  /** Decides with `concurrency` = requests in flight plus held (the peak since the last decision). */
  decide(now: number, concurrency: number): ScaleDecision {
    const p = this.policy;
    const rate = this.window.rate(now);
    const byConcurrency = p.useConcurrency ? Math.ceil(concurrency / p.targetConcurrency) : 0;
    const byRate = p.useRate ? Math.ceil(rate / p.targetRate - 1e-9) : 0;
    const demand = Math.max(byConcurrency, byRate);
    const clamped = Math.min(p.maxReplicas, Math.max(p.minReplicas, demand));

    while (this.held.length > 0 && this.held[this.held.length - 1]!.r <= clamped) this.held.pop();
    this.held.push({ t: now, r: clamped });
    while (this.held.length > 1 && this.held[0]!.t <= now - p.scaledownPeriodMs) this.held.shift();
    const replicas = this.held[0]!.r;

    let reason: string;
    if (replicas > clamped)
      reason = `holding ${replicas} until demand stays at ${clamped} for the scaledown period`;
    else if (demand > p.maxReplicas) reason = `demand ${demand} capped at maxReplicas ${p.maxReplicas}`;
    else if (demand < p.minReplicas) reason = `minReplicas ${p.minReplicas}`;
    else if (demand === 0) reason = 'idle';
    else if (byConcurrency >= byRate) reason = `concurrency ${concurrency} / target ${p.targetConcurrency}`;
    else reason = `rate ${rate.toFixed(1)}/s / target ${p.targetRate}`;
    return { replicas, demand, concurrency, rate, reason };
  }
}
