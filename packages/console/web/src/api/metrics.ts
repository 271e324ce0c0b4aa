/** One sample of Prometheus text: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition (comments and malformed lines skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    const value = Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Per function: requests/s over the gateway's rate window, cold starts so far, request duration p99. */
export interface FunctionStats {
  rate: number;
  coldStarts: number;
  /** The request duration histogram's cumulative buckets, `[le, count]` by rising `le` (seconds). */
  buckets: [number, number][];
  /** Seconds, over the requests between the previous reading and this one; undefined when none came. */
  p99?: number;
}

/**
 * A quantile of the requests counted between two readings of a cumulative histogram, interpolated
 * inside its bucket as Prometheus' histogram_quantile does (the +Inf bucket gives the largest bound).
 */
export function quantile(
  q: number,
  now: [number, number][],
  before: [number, number][] = [],
): number | undefined {
  const prev = new Map(before);
  const delta = now.map(([le, n]) => [le, n - (prev.get(le) ?? 0)] as const);
  const total = delta.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, n] of delta) {
    if (n >= rank) {
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (rank - below)) / Math.max(n - below, 1);
    }
    lower = le;
    below = n;
  }
  return lower;
}

/** The stats of each function in `samples`; `before` (the previous reading) windows the p99. */
export function functionStats(
  samples: Sample[],
  before?: Map<string, FunctionStats>,
): Map<string, FunctionStats> {
  const out = new Map<string, FunctionStats>();
  const of = (fn: string) => {
    let s = out.get(fn);
    if (!s) out.set(fn, (s = { rate: 0, coldStarts: 0, buckets: [] }));
    return s;
  };
  for (const s of samples) {
    const fn = s.labels.function;
    if (!fn) continue;
    if (s.name === 'sprout_gateway_request_rate') of(fn).rate = s.value;
    else if (s.name === 'sprout_gateway_cold_starts_total') of(fn).coldStarts = s.value;
    else if (s.name === 'sprout_gateway_request_duration_seconds_bucket' && s.labels.le)
      of(fn).buckets.push([s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value]);
  }
  for (const [fn, s] of out) {
    s.buckets.sort((a, b) => a[0] - b[0]);
    const p99 = quantile(0.99, s.buckets, before?.get(fn)?.buckets);
    if (p99 !== undefined) s.p99 = p99;
  }
  return out;
}
