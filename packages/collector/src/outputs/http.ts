import { z } from 'zod';
import { many, port } from '../config/values.js';
import { CollectorError } from '../errors.js';
import type { OutputPlugin } from '../plugin.js';
import { stringify, toJsonObject, type JsonFormatOptions } from './format.js';
import { jsonKeys } from './basic.js';

/** `http`: POSTs each batch as JSON (an array) or JSON lines; any non-2xx status is retried. */
export const httpOutput: OutputPlugin = {
  name: 'http',
  schema: z.strictObject({
    host: z.string().default('127.0.0.1'),
    port: port.default(80),
    uri: z.string().default('/'),
    format: z.enum(['json', 'json_lines', 'json_stream']).default('json'),
    header: many.optional(),
    compress: z.enum(['gzip']).optional(),
    ...jsonKeys,
  }),
  create(
    o: JsonFormatOptions & {
      host: string;
      port: number;
      uri: string;
      format: string;
      header?: string[];
      compress?: string;
    },
  ) {
    const headers: Record<string, string> = {
      'content-type': o.format === 'json' ? 'application/json' : 'application/x-ndjson',
    };
    for (const h of o.header ?? []) {
      const i = h.search(/\s/);
      if (i > 0) headers[h.slice(0, i)] = h.slice(i).trim();
    }
    const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}${o.uri}`;
    return {
      async write(records) {
        const objs = records.map((r) => toJsonObject(r, o));
        const text = o.format === 'json' ? stringify(objs) : objs.map((x) => stringify(x)).join('\n') + '\n';
        let body: string | Buffer = text;
        const h = { ...headers };
        if (o.compress === 'gzip') {
          const { gzipSync } = await import('node:zlib');
          body = gzipSync(text);
          h['content-encoding'] = 'gzip';
        }
        const res = await fetch(url, {
          method: 'POST',
          headers: h,
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (res.status < 200 || res.status > 299) {
          throw new CollectorError('SPROUT_ERR_COLLECTOR_OUTPUT_FAILED', `${url} answered ${res.status}`);
        }
      },
    };
  },
};
