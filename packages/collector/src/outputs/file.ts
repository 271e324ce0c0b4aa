import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { bool } from '../config/values.js';
import type { OutputPlugin } from '../plugin.js';
import type { CollectorRecord } from '../types.js';
import { jsonKeys } from './basic.js';
import { inside, tagPath } from './file-path.js';
import { formatTime, jsonLine, stringify, type JsonFormatOptions } from './format.js';

type FileOptions = JsonFormatOptions & {
  path?: string;
  file?: string;
  format: string;
  template: string;
  mkdir: boolean;
};

/**
 * `file`: appends to `path/file`. Without `file` the name comes from each record's tag, which inputs
 * take from senders (a URL path, a record field), so it is made safe as fluent-bit makes it
 * (`tagPath`: `..` → `_`, separators → sub-folders, anything else unsafe → `_`) and must resolve
 * inside `path` (the working folder when unset). A tag that cannot be a file name (a part over 255
 * bytes) is refused: its records are dropped, counted and logged with SPROUT_ERR_COLLECTOR_FILE_NAME,
 * the rest of the batch is written; so is a tag naming a sub-folder that does not exist while `mkdir`
 * is off. `mkdir` creates the folder a file goes in (sub-folders included).
 * Formats: out_file (`tag: [time, body]`), plain (JSON body), json_lines, template.
 */
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
  create(o: FileOptions, ctx) {
    const line = (r: CollectorRecord) => {
      switch (o.format) {
        case 'plain':
          return stringify(r.body);
        case 'json_lines':
          return jsonLine(r, o);
        case 'template':
          return o.template.replace(/\{([^}]+)\}/g, (_m, k: string) =>
            k === 'time' ? String(formatTime(r.time, 'double')) : String(r.body[k] ?? ''),
          );
        default:
          return `${r.tag}: [${formatTime(r.time, 'double')}, ${stringify(r.body)}]`;
      }
    };
    const folder = o.path ?? '.';
    /** Where a tag's records go (cached per tag); undefined when the tag cannot be a file name. */
    const targets = new Map<string, string | undefined>();
    const fixed = o.file === undefined ? undefined : join(folder, o.file);
    const targetOf = (tag: string): string | undefined => {
      if (fixed !== undefined) return fixed;
      if (targets.has(tag)) return targets.get(tag);
      const name = tagPath(tag);
      const target = name === undefined ? undefined : inside(folder, name);
      if (targets.size > 10_000) targets.clear();
      targets.set(tag, target);
      return target;
    };
    const root = resolve(folder);
    const refuse = (n: number, detail: Record<string, unknown>) => {
      if (ctx.discard) ctx.discard(n, 'SPROUT_ERR_COLLECTOR_FILE_NAME', detail);
      else
        ctx.log.error(
          { ...detail, code: 'SPROUT_ERR_COLLECTOR_FILE_NAME', records: n },
          'file output: records dropped, the tag cannot be a file name',
        );
    };
    return {
      // Behind by several batches: one append (open, write, close) for up to this many records.
      maxRecords: 16_384,
      async write(records) {
        const byFile = new Map<string, { text: string; n: number; tag: string }>();
        const refused = new Map<string, number>();
        for (let i = 0; i < records.length; i++) {
          // A merged write formats up to 16,384 records: let the event loop in every 1,024 so
          // sockets (UDP above all, which cannot wait) are drained meanwhile.
          if (i > 0 && i % 1024 === 0) await new Promise((r) => setImmediate(r));
          const r = records[i]!;
          const target = targetOf(r.tag);
          if (target === undefined) {
            refused.set(r.tag, (refused.get(r.tag) ?? 0) + 1);
            continue;
          }
          let f = byFile.get(target);
          if (!f) byFile.set(target, (f = { text: '', n: 0, tag: r.tag }));
          f.text += line(r) + '\n';
          f.n++;
        }
        for (const [tag, n] of refused)
          refuse(n, { output: ctx.name, tag: tag.slice(0, 120), tagBytes: Buffer.byteLength(tag) });
        for (const [target, f] of byFile) {
          if (o.mkdir) await mkdir(dirname(target), { recursive: true });
          try {
            await appendFile(target, f.text);
          } catch (err) {
            // A tag's sub-folder that does not exist, without mkdir: that tag's records are refused
            // (as fluent-bit drops the tag's chunk); the output's own folder missing is retried.
            const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
            if (!missing || o.file !== undefined || o.mkdir || dirname(target) === root) throw err;
            refuse(f.n, {
              output: ctx.name,
              tag: f.tag.slice(0, 120),
              error: 'its sub-folder does not exist (mkdir: off)',
            });
          }
        }
      },
    };
  },
};
