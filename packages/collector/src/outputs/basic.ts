import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { bool } from '../config/values.js';
import type { OutputPlugin } from '../plugin.js';
import { formatTime, stringify, toJsonObject, type JsonFormatOptions } from './format.js';

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
        else text = records.map((r) => stringify(toJsonObject(r, o)) + '\n').join('');
        if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
      },
    };
  },
};

/** `file`: appends to `path/file` (default file name: the tag). Formats: out_file (`tag: [time, body]`), plain (JSON body), json_lines. */
export const fileOutput: OutputPlugin = {
  name: 'file',
  schema: z.strictObject({
    path: z.string().optional(),
    file: z.string().optional(),
    format: z.enum(['out_file', 'plain', 'json_lines', 'template']).default('out_file'),
    template: z.string().default('{time} {message}'),
    mkdir: bool.default(false),
    ...jsonKeys,
  }),
  create(
    o: JsonFormatOptions & { path?: string; file?: string; format: string; template: string; mkdir: boolean },
  ) {
    const line = (r: Parameters<typeof toJsonObject>[0]) => {
      switch (o.format) {
        case 'plain':
          return stringify(r.body);
        case 'json_lines':
          return stringify(toJsonObject(r, o));
        case 'template':
          return o.template.replace(/\{([^}]+)\}/g, (_m, k: string) =>
            k === 'time' ? String(formatTime(r.time, 'double')) : String(r.body[k] ?? ''),
          );
        default:
          return `${r.tag}: [${formatTime(r.time, 'double')}, ${stringify(r.body)}]`;
      }
    };
    return {
      async write(records) {
        const byFile = new Map<string, string>();
        for (const r of records) {
          const target = join(o.path ?? '.', o.file ?? r.tag);
          byFile.set(target, (byFile.get(target) ?? '') + line(r) + '\n');
        }
        if (o.mkdir && o.path) await mkdir(o.path, { recursive: true });
        for (const [f, text] of byFile) await appendFile(f, text);
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
