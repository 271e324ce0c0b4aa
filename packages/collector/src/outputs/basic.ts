import { z } from 'zod';
import type { OutputPlugin } from '../plugin.js';
import { formatTime, jsonLine, stringify, toJsonObject, type JsonFormatOptions } from './format.js';

export const jsonKeys = {
  json_date_key: z
    .union([z.string(), z.literal(false)])
    .default('date')
    .transform((v) => (v === 'false' || v === 'off' ? (false as const) : v)),
  json_date_format: z.enum(['double', 'epoch', 'iso8601', 'java_sql_timestamp']).default('double'),
};

/** `stdout`: one line per record; `json_lines` (default), `json` (one array per batch) or `msgpack`-style `tag: [time, body]`. */
export const stdoutOutput: OutputPlugin = {
  name: 'stdout',
  schema: z.strictObject({
    format: z.enum(['json_lines', 'json', 'msgpack']).default('json_lines'),
    ...jsonKeys,
  }),
  create(o: JsonFormatOptions & { format: string }) {
    return {
      async write(records) {
        let text: string;
        if (o.format === 'json') text = stringify(records.map((r) => toJsonObject(r, o))) + '\n';
        else if (o.format === 'msgpack')
          text = records
            .map((r) => `${r.tag}: [${formatTime(r.time, 'double')}, ${stringify(r.body)}]\n`)
            .join('');
        else text = records.map((r) => jsonLine(r, o) + '\n').join('');
        if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
      },
    };
  },
};

/** `null`: accepts and discards. */
export const nullOutput: OutputPlugin = {
  name: 'null',
  schema: z.strictObject({}),
  create: () => ({ write: async () => {} }),
};

/** `counter`: prints `<unix seconds>,<records in batch> (total = N)` per batch, as fluent-bit does. */
export const counterOutput: OutputPlugin = {
  name: 'counter',
  schema: z.strictObject({}),
  create() {
    let total = 0;
    return {
      async write(records) {
        total += records.length;
        process.stdout.write(`${Math.floor(Date.now() / 1000)},${records.length} (total = ${total})\n`);
      },
    };
  },
};
