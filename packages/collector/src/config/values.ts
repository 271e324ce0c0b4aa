import { z } from 'zod';

const units: Record<string, number> = {
  '': 1,
  K: 1024,
  KB: 1024,
  M: 1024 ** 2,
  MB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1024 ** 3,
};

/** Parses fluent-bit sizes: `32000`, `32K`, `4M`, `1.5MB`; `defaultUnit` applies to bare numbers. */
export function parseSize(v: string | number, defaultUnit = 1): number | undefined {
  if (typeof v === 'number') return Math.floor(v * defaultUnit);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]B?)?\s*$/i.exec(v);
  if (!m) return undefined;
  const unit = m[2] ? units[m[2].toUpperCase()]! : defaultUnit;
  return Math.floor(Number(m[1]) * unit);
}

/** A size option (`4M`); bare numbers are multiplied by `defaultUnit` (fluent-bit's tcp sizes are in KB). */
export const size = (defaultUnit = 1) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const n = parseSize(v, defaultUnit);
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: `'${v}' is not a size (use e.g. 512K, 4M)` });
      return z.NEVER;
    }
    return n;
  });

/** fluent-bit booleans: on/off, true/false, yes/no, 1/0. */
export const bool = z.union([z.boolean(), z.string(), z.number()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(s)) return true;
  if (['off', 'false', 'no', '0'].includes(s)) return false;
  ctx.addIssue({ code: 'custom', message: `'${v}' is not a boolean (use on or off)` });
  return z.NEVER;
});

/** An integer that may arrive as a string (`port: "9880"`). */
export const int = (min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** A duration in seconds, fractions allowed (`flush: 0.5`). */
export const seconds = z.coerce.number().min(0);

/** A key that may be given once or many times (`header: [a b, c d]`). */
export const many = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

export const port = int(0, 65535);
