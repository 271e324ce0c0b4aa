/** What a record carries: a log line or object, a metric data point, or a trace span. */
export type RecordKind = 'log' | 'metric' | 'trace';

/**
 * One record in the pipeline. `time` is nanoseconds since the epoch; `body` is the payload a user
 * matches and filters on; `meta` holds protocol metadata (OTLP resource, severity, source address).
 */
export interface CollectorRecord {
  time: bigint;
  tag: string;
  body: Record<string, unknown>;
  kind?: RecordKind;
  meta?: Record<string, unknown>;
}

/** A metric data point as inputs emit it (the `body` of a `kind: 'metric'` record). */
export interface MetricBody extends Record<string, unknown> {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'set' | 'timer' | 'untyped';
  value: number;
  labels?: Record<string, string>;
}

let lastMs = -1;
let lastNs = 0n;

/** Current time in nanoseconds (millisecond resolution: the BigInt is made once per millisecond). */
export function nowNs(): bigint {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastNs = BigInt(ms) * 1_000_000n;
  }
  return lastNs;
}
