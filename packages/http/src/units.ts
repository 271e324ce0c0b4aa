const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?|[kmg]i?b?)\s*$/i;
const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses a size: `1048576`, `512K`, `4M`, `1.5MB`, `10mb`, `2GiB` (units are powers of 1024, any
 * case). A bare number is multiplied by `defaultUnit` (fluent-bit's tcp sizes are in KB). Returns
 * undefined when the text is not a size; callers raise their own coded error naming the field.
 *
 * @example
 * parseSize('4M') // 4194304
 */
export function parseSize(value: string | number, defaultUnit = 1): number | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) && value >= 0 ? Math.floor(value * defaultUnit) : undefined;
  const m = SIZE.exec(value);
  if (!m) return undefined;
  const unit = m[2] ? m[2].toLowerCase().replace(/i?b$/, '') : '';
  const factor = unit === '' ? (m[2] ? 1 : defaultUnit) : SIZE_UNITS[unit];
  return factor === undefined ? undefined : Math.floor(Number(m[1]) * factor);
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export interface DurationOptions {
  /** Accept a bare number as seconds (Dapr metadata does; Kubernetes fields do not). */
  bareSeconds?: boolean;
}

/**
 * Parses a Go duration (`500ms`, `20s`, `1m30s`, `1h`) into milliseconds. Returns undefined when the
 * text is not a duration; callers raise their own coded error naming the field.
 *
 * @example
 * parseDuration('1m30s') // 90000
 * parseDuration('15', { bareSeconds: true }) // 15000
 */
export function parseDuration(text: string, o: DurationOptions = {}): number | undefined {
  const s = text.trim();
  if (!s) return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return o.bareSeconds ? Number(s) * 1000 : undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const m = DURATION_PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  }
  return total;
}
