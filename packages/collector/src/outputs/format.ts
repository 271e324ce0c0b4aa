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

/** Serialises bigint values (which JSON cannot hold) as strings. */
export function stringify(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}
