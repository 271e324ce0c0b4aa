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

let lastStamp = '';
let lastMs = 0;

/** Parses an RFC 3339 timestamp to nanoseconds, keeping sub-millisecond digits. */
export function parseRfc3339(text: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(text);
  if (!m) return undefined;
  // Timestamps repeat within a second: remember the last whole-second conversion.
  const stamp = `${m[1]}${m[3]!.toUpperCase()}`;
  if (stamp !== lastStamp) {
    const ms = Date.parse(stamp);
    if (Number.isNaN(ms)) return undefined;
    lastStamp = stamp;
    lastMs = ms;
  }
  return BigInt(lastMs) * 1_000_000n + (m[2] ? BigInt(m[2].padEnd(9, '0')) : 0n);
}
