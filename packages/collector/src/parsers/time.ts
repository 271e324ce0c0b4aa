const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const directives: Record<string, [string, string]> = {
  Y: ['(\\d{4})', 'Y'],
  y: ['(\\d{2})', 'y'],
  m: ['(\\d{1,2})', 'm'],
  d: ['(\\d{1,2})', 'd'],
  e: ['\\s?(\\d{1,2})', 'd'],
  H: ['(\\d{1,2})', 'H'],
  M: ['(\\d{2})', 'M'],
  S: ['(\\d{2})', 'S'],
  L: ['(\\d{1,9})', 'L'],
  f: ['(\\d{1,9})', 'L'],
  b: ['([A-Za-z]{3})', 'b'],
  z: ['(Z|[+-]\\d{2}:?\\d{2})', 'z'],
  s: ['(\\d+)', 's'],
};

/**
 * Compiles a strptime-style format (the subset fluent-bit configs use: %Y %y %m %d %e %H %M %S %L
 * %f %b %z %s %T %%, plus literal text) into a function returning nanoseconds, or undefined when the
 * text does not match. Without %z the time is read as UTC.
 */
export function compileTimeFormat(format: string): (text: string) => bigint | undefined {
  const fields: string[] = [];
  let src = '^';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '%' && i + 1 < format.length) {
      const d = format[++i]!;
      if (d === '%') src += '%';
      else if (d === 'T') {
        src += '(\\d{1,2}):(\\d{2}):(\\d{2})';
        fields.push('H', 'M', 'S');
      } else if (directives[d]) {
        src += directives[d][0];
        fields.push(directives[d][1]);
      } else src += d.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else src += c === ' ' ? '\\s+' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const re = new RegExp(src);
  return (text) => {
    const m = re.exec(text.trim());
    if (!m) return undefined;
    const v: Record<string, string> = {};
    fields.forEach((f, i) => (v[f] = m[i + 1]!));
    if (v.s !== undefined) return BigInt(v.s) * 1_000_000_000n;
    const year = v.Y ? Number(v.Y) : v.y ? 2000 + Number(v.y) : new Date().getUTCFullYear();
    const month = v.b ? months.indexOf(v.b.toLowerCase()) : v.m ? Number(v.m) - 1 : 0;
    if (month < 0) return undefined;
    let ms = Date.UTC(year, month, Number(v.d ?? 1), Number(v.H ?? 0), Number(v.M ?? 0), Number(v.S ?? 0));
    if (v.z && v.z !== 'Z') {
      const sign = v.z[0] === '-' ? -1 : 1;
      const digits = v.z.slice(1).replace(':', '');
      ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
    if (Number.isNaN(ms)) return undefined;
    const frac = v.L ? BigInt(v.L.padEnd(9, '0').slice(0, 9)) : 0n;
    return BigInt(ms) * 1_000_000n + frac;
  };
}

const isDigits = (t: string, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
};

/** `YYYY-MM-DDTHH:MM:SS` (T or t): the fixed part of an RFC 3339 timestamp. */
const isDateTime = (t: string): boolean =>
  isDigits(t, 0, 4) &&
  t.charCodeAt(4) === 0x2d &&
  isDigits(t, 5, 7) &&
  t.charCodeAt(7) === 0x2d &&
  isDigits(t, 8, 10) &&
  (t.charCodeAt(10) | 0x20) === 0x74 &&
  isDigits(t, 11, 13) &&
  t.charCodeAt(13) === 0x3a &&
  isDigits(t, 14, 16) &&
  t.charCodeAt(16) === 0x3a &&
  isDigits(t, 17, 19);

/** `Z` / `z` / `+HH:MM` / `-HH:MM` from `p` to the end. */
const isZone = (t: string, p: number): boolean => {
  const c = t.charCodeAt(p);
  if ((c | 0x20) === 0x7a) return t.length === p + 1;
  return (
    (c === 0x2b || c === 0x2d) &&
    t.length === p + 6 &&
    isDigits(t, p + 1, p + 3) &&
    t.charCodeAt(p + 3) === 0x3a &&
    isDigits(t, p + 4, p + 6)
  );
};

let lastSecond = '';
let lastZone = '';
let lastBase = 0n;

/**
 * Parses an RFC 3339 timestamp (`YYYY-MM-DDTHH:MM:SS[.1-9 digits](Z|±HH:MM)`) to nanoseconds,
 * keeping sub-millisecond digits. Scanned by hand, not by a regular expression: this runs once per
 * syslog message.
 */
export function parseRfc3339(text: string): bigint | undefined {
  if (text.length < 20 || !isDateTime(text)) return undefined;
  let p = 19;
  let frac = 0;
  if (text.charCodeAt(p) === 0x2e) {
    const from = ++p;
    while (p < text.length && p - from < 10 && isDigits(text, p, p + 1))
      frac = frac * 10 + (text.charCodeAt(p++) - 0x30);
    const n = p - from;
    if (n === 0 || n > 9) return undefined;
    frac *= 10 ** (9 - n);
  }
  if (!isZone(text, p)) return undefined;
  // Timestamps repeat within a second: remember the last whole-second conversion.
  const second = text.slice(0, 19);
  const zone = text.slice(p).toUpperCase();
  if (second !== lastSecond || zone !== lastZone) {
    const ms = Date.parse(`${second.slice(0, 10)}T${second.slice(11)}${zone}`);
    if (Number.isNaN(ms)) return undefined;
    lastSecond = second;
    lastZone = zone;
    lastBase = BigInt(ms) * 1_000_000n;
  }
  return frac === 0 ? lastBase : lastBase + BigInt(frac);
}
