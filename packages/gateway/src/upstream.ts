/**
 * The contract between the gateway (interceptor + scaler) and whoever runs function instances
 * (the platform's supervisor in `sprout dev`). The gateway owns this file; the platform
 * implements `FunctionUpstream` for each function.
 */

/** A ready instance the gateway may send requests to. */
export interface InstanceEndpoint {
  /** Stable id of the instance (unique within its function). */
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** One function as the gateway sees it: its ready instances and a way to ask for more or fewer. */
export interface FunctionUpstream {
  /** The function's name (bounded label for metrics). */
  readonly name: string;
  /** Instances that passed their readiness probe, right now. */
  instances(): readonly InstanceEndpoint[];
  /**
   * Asks for `replicas` instances (0 = scale to zero). The supervisor reconciles asynchronously:
   * new instances show up in `instances()` once ready; instances removed are drained first.
   * `reason` is a short human-readable cause for the platform's event stream.
   */
  scaleTo(replicas: number, reason: string): void;
  /** Calls `listener` whenever the set of ready instances changes; returns an unsubscribe function. */
  onInstancesChanged(listener: () => void): () => void;
}

/** Scaling knobs, with KEDA HTTPScaledObject's meanings and defaults. */
export interface ScalingPolicy {
  minReplicas: number;
  maxReplicas: number;
  /** Target concurrent requests per instance (KEDA `scalingMetric.concurrency.targetValue`, default 100). */
  targetConcurrency?: number;
  /** Target requests per second per instance (KEDA `scalingMetric.requestRate.targetValue`, default 100). */
  targetRate?: number;
  /** Window over which the rate is averaged, ms (KEDA default 1 m). */
  rateWindowMs?: number;
  /** Bucket size of the rate window, ms (KEDA default 1 s). */
  rateGranularityMs?: number;
  /** How long demand must stay lower before scaling down, ms (KEDA `scaledownPeriod`, default 300 s). */
  scaledownPeriodMs?: number;
}
