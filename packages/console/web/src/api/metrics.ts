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

/** Per function: requests/s over the gateway's rate window and cold starts so far. */
export interface FunctionStats {
  rate: number;
  coldStarts: number;
}

export function functionStats(samples: Sample[]): Map<string, FunctionStats> {
  const out = new Map<string, FunctionStats>();
  const of = (fn: string) => {
    let s = out.get(fn);
    if (!s) out.set(fn, (s = { rate: 0, coldStarts: 0 }));
    return s;
  };
  for (const s of samples) {
    const fn = s.labels.function;
    if (!fn) continue;
    if (s.name === 'sprout_gateway_request_rate') of(fn).rate = s.value;
    else if (s.name === 'sprout_gateway_cold_starts_total') of(fn).coldStarts = s.value;
  }
  return out;
}
