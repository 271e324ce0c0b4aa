import type { ResolvedFunction } from '@sprout/spec';
import { TriggersError } from '../errors.js';
import { readTrigger, type LagTrigger } from './metric.js';

/** KEDA ScaledObject defaults (durations in milliseconds here, seconds in KEDA). */
export const KEDA_DEFAULTS = {
  minReplicas: 0,
  maxReplicas: 100,
  pollingIntervalMs: 30_000,
  cooldownPeriodMs: 300_000,
} as const;

export interface LagPolicy {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly pollingIntervalMs: number;
  /** How long after the last active poll before scaling to zero (KEDA `cooldownPeriod`). */
  readonly cooldownPeriodMs: number;
}

/**
 * One input to a decision: a trigger's reading, or demand from another scaler fed into the same
 * decision (the gateway's HTTP scaler: `{source: 'http', replicas, active: replicas > 0}`).
 */
export interface Demand {
  readonly source: string;
  readonly replicas: number;
  readonly active: boolean;
  readonly value?: number;
}

export interface LagDecision {
  /** Replicas wanted now. */
  readonly replicas: number;
  /** Some input is active (above its activation threshold). */
  readonly active: boolean;
  readonly reason: string;
  readonly demands: readonly Demand[];
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

/**
 * The decision KEDA and the HPA it drives make together, pure:
 * - the HPA part: replicas = max over inputs of `ceil(value / target)`, within
 *   `[max(minReplicas, 1), maxReplicas]`;
 * - the KEDA part: with no input active, a function at zero stays at `minReplicas`, and one that
 *   runs goes to zero (when `minReplicas` is 0) only once `cooldownPeriod` has passed since the
 *   last active poll (at once if it was never active); with an input active it runs at least one.
 *
 * Not modelled: the HPA's 10% tolerance and its scale-down stabilisation window (Kubernetes
 * defaults apply on a cluster, so a cluster scales down more slowly than `sprout dev`).
 */
export class LagDecider {
  private lastActive: number | undefined;

  constructor(readonly policy: LagPolicy) {}

  /** Decides at `now` (ms) for a function that runs `current` replicas. */
  decide(now: number, current: number, demands: readonly Demand[]): LagDecision {
    const p = this.policy;
    const active = demands.some((d) => d.active);
    if (active) this.lastActive = now;
    let top: Demand | undefined;
    for (const d of demands) if (!top || d.replicas > top.replicas) top = d;
    const hpa = clamp(top?.replicas ?? 0, Math.max(p.minReplicas, 1), p.maxReplicas);
    const why = top && top.replicas > 0 ? `${top.source} asks ${top.replicas}` : 'no demand';
    if (active) {
      const capped = (top?.replicas ?? 0) > p.maxReplicas ? `, capped at maxReplicas ${p.maxReplicas}` : '';
      return { replicas: hpa, active, reason: `${why}${capped}`, demands };
    }
    if (current === 0 || p.minReplicas > 0) {
      const replicas = current === 0 ? p.minReplicas : hpa;
      return { replicas, active, reason: `idle (${why}), minReplicas ${p.minReplicas}`, demands };
    }
    const since = this.lastActive === undefined ? Infinity : now - this.lastActive;
    if (since >= p.cooldownPeriodMs) {
      return { replicas: 0, active, reason: 'idle past the cooldown period: scale to zero', demands };
    }
    const left = Math.ceil((p.cooldownPeriodMs - since) / 1000);
    return { replicas: hpa, active, reason: `idle, ${left}s of the cooldown period left (${why})`, demands };
  }
}

type Json = Record<string, unknown>;

/** A KEDA duration in seconds (a whole number ≥ 0) as milliseconds, or `fallback`. */
function seconds(v: unknown, field: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new TriggersError('SPROUT_ERR_TRIGGERS_SCALER_INVALID', `${field} must be whole seconds ≥ 0`, {
      field,
    });
  return v * 1000;
}

function replicasOf(v: unknown, field: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new TriggersError('SPROUT_ERR_TRIGGERS_SCALER_INVALID', `${field} must be a whole number ≥ 0`, {
      field,
    });
  return v;
}

/**
 * Reads OpenFunction v1beta2 `serving.scaleOptions` (`minReplicas`, `maxReplicas`,
 * `keda.scaledObject.{pollingInterval, cooldownPeriod}`, `keda.triggers[]`) into the policy and the
 * triggers the local scaler runs. Fields are named from `field` (default `serving.scaleOptions`).
 */
export function readScaleOptions(
  scaleOptions: Json | undefined,
  field = 'serving.scaleOptions',
): { policy: LagPolicy; triggers: LagTrigger[] } {
  const so = scaleOptions ?? {};
  const keda = (so.keda ?? {}) as Json;
  const scaled = (keda.scaledObject ?? {}) as Json;
  const policy: LagPolicy = {
    minReplicas: replicasOf(so.minReplicas, `${field}.minReplicas`, KEDA_DEFAULTS.minReplicas),
    maxReplicas: replicasOf(so.maxReplicas, `${field}.maxReplicas`, KEDA_DEFAULTS.maxReplicas),
    pollingIntervalMs: seconds(
      scaled.pollingInterval,
      `${field}.keda.scaledObject.pollingInterval`,
      KEDA_DEFAULTS.pollingIntervalMs,
    ),
    cooldownPeriodMs: seconds(
      scaled.cooldownPeriod,
      `${field}.keda.scaledObject.cooldownPeriod`,
      KEDA_DEFAULTS.cooldownPeriodMs,
    ),
  };
  if (policy.maxReplicas < 1 || policy.minReplicas > policy.maxReplicas)
    throw new TriggersError(
      'SPROUT_ERR_TRIGGERS_SCALER_INVALID',
      `${field}.maxReplicas must be ≥ 1 and ≥ minReplicas (${policy.minReplicas})`,
      { field: `${field}.maxReplicas` },
    );
  if (policy.pollingIntervalMs === 0)
    throw new TriggersError(
      'SPROUT_ERR_TRIGGERS_SCALER_INVALID',
      `${field}.keda.scaledObject.pollingInterval must be ≥ 1 second`,
      { field: `${field}.keda.scaledObject.pollingInterval` },
    );
  const list = (keda.triggers ?? []) as { type: string; name?: string; metadata?: Record<string, string> }[];
  const triggers = list.map((t, i) => readTrigger(t, `${field}.keda.triggers[${i}]`, i));
  return { policy, triggers };
}

/**
 * The policy and triggers of a function as `@sprout/spec` resolved it: replicas within the
 * function's `scaling` min/max (the same bounds the gateway's HTTP scaler keeps, so both feed one
 * decision), `pollingInterval`/`cooldownPeriod` and `keda.triggers` from `triggers.scaling`.
 * Undefined for a function without event triggers.
 */
export function lagScalingOf(
  fn: Pick<ResolvedFunction, 'scaling' | 'triggers'>,
): { policy: LagPolicy; triggers: LagTrigger[] } | undefined {
  const s = fn.triggers?.scaling;
  if (!s) return undefined;
  const field = 'spec.serving.scaleOptions';
  const policy: LagPolicy = {
    minReplicas: fn.scaling.minReplicas,
    maxReplicas: fn.scaling.maxReplicas,
    pollingIntervalMs: s.pollingIntervalMs,
    cooldownPeriodMs: s.cooldownPeriodMs,
  };
  const triggers = s.triggers.map((t, i) => readTrigger(t, `${field}.keda.triggers[${i}]`, i));
  return { policy, triggers };
}
