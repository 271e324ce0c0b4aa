import { parseDuration, parseSize } from '@sprout/http';
import { z } from 'zod';

/**
 * A size option (`32000`, `512K`, `4M`, `1.5MB`, as `parseSize` of @sprout/http reads it); bare numbers
 * are multiplied by `defaultUnit` (fluent-bit's tcp sizes are in KB).
 */
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

/**
 * A Go-style duration option in seconds: `5`, `5s`, `500ms`, `1m`, `1m30s` (`parseDuration` of
 * @sprout/http; a bare number is seconds).
 */
export const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(String(v), { bareSeconds: true });
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a duration (use e.g. 5s, 500ms)` });
    return z.NEVER;
  }
  return ms / 1000;
});

/** A duration in seconds, fractions allowed (`flush: 0.5`). */
export const seconds = z.coerce.number().min(0);

/** A key that may be given once or many times (`header: [a b, c d]`). */
export const many = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

export const port = int(0, 65535);

/** A fluent-bit key Sprout cannot honour: given at all, it is a config error saying why. */
export const refused = (why: string) => z.never({ error: why }).optional();

/** A boolean key of which only one value can be honoured; the other is a config error saying why. */
export const onlyBool = (value: boolean, why: string) =>
  bool.pipe(z.literal(value, { error: why })).optional();
