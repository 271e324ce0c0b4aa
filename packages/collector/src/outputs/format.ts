import type { CollectorRecord } from '../types.js';

export interface JsonFormatOptions {
  json_date_key: string | false;
  json_date_format: 'double' | 'epoch' | 'iso8601' | 'java_sql_timestamp';
}

/** The record as a plain JSON object with its time under `json_date_key` (fluent-bit's layout). */
export function toJsonObject(r: CollectorRecord, o: JsonFormatOptions): Record<string, unknown> {
  if (o.json_date_key === false) return r.body;
  return { [o.json_date_key]: formatTime(r.time, o.json_date_format), ...r.body };
}

export function formatTime(ns: bigint, format: JsonFormatOptions['json_date_format']): number | string {
  const ms = Number(ns / 1_000_000n);
  switch (format) {
    case 'epoch':
      return Math.floor(ms / 1000);
    case 'iso8601':
      return new Date(ms).toISOString().replace(
        /\.\d{3}Z$/,
        '.' +
          String(ns % 1_000_000_000n)
            .padStart(9, '0')
            .slice(0, 6) +
          'Z',
      );
    case 'java_sql_timestamp':
      return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    default:
      return Number(ns / 1000n) / 1e6;
  }
}

const bigintAsString = (_k: string, x: unknown) => (typeof x === 'bigint' ? x.toString() : x);

/**
 * Serialises bigint values (which JSON cannot hold) as strings. Bodies seldom hold one, so the
 * replacer (which makes JSON.stringify leave its fast path, per key) runs only after a plain
 * stringify threw.
 */
export function stringify(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return JSON.stringify(v, bigintAsString);
  }
}

let lastKey = '';
let lastKeyJson = '';

/**
 * `stringify(toJsonObject(r, o))` without building the merged object: the time key spliced in
 * front of the body's JSON (the same text, same key order).
 */
export function jsonLine(r: CollectorRecord, o: JsonFormatOptions): string {
  const key = o.json_date_key;
  if (key === false) return stringify(r.body);
  if (Object.hasOwn(r.body, key)) return stringify(toJsonObject(r, o));
  const body = stringify(r.body);
  if (key !== lastKey) [lastKey, lastKeyJson] = [key, `{${JSON.stringify(key)}:`];
  const head = lastKeyJson + JSON.stringify(formatTime(r.time, o.json_date_format));
  return body.length === 2 ? `${head}}` : `${head},${body.slice(1)}`;
}
