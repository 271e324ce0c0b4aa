import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSproutError, readBody } from '@sprout/http';
import { z } from 'zod';
import { many, port, size } from '../config/values.js';
import type { InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import { httpListener, refusal, RETRY_AFTER, sendRefusal, unavailable } from './http-server.js';
import { bodyLimit } from './net.js';
import { serverTlsOptions, tlsKeys } from './tls.js';

const BAD_REQUEST = 'SPROUT_ERR_COLLECTOR_BAD_REQUEST';

const schema = z.strictObject({
  listen: z.string().default('0.0.0.0'),
  port: port.default(9880),
  tag_key: z.string().optional(),
  buffer_max_size: size().default(4 * 1024 * 1024),
  buffer_chunk_size: size().default(512 * 1024),
  successful_response_code: z.coerce
    .number()
    .pipe(z.union([z.literal(200), z.literal(201), z.literal(204)]))
    .default(201),
  success_header: many.optional(),
  ...tlsKeys,
});

/** Turns a parsed JSON body or form into record bodies. */
function bodiesOf(contentType: string, raw: Buffer): Record<string, unknown>[] | string {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) {
    let v: unknown;
    try {
      v = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return `invalid JSON: ${(err as Error).message}`;
    }
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => x && typeof x === 'object' && !Array.isArray(x)))
      return 'JSON body must be an object or an array of objects';
    return list as Record<string, unknown>[];
  }
  if (type === 'application/x-www-form-urlencoded') {
    return [Object.fromEntries(new URLSearchParams(raw.toString('utf8')))];
  }
  return `unsupported content type '${type || '(none)'}' (use application/json or application/x-www-form-urlencoded)`;
}

/**
 * `http`: POST JSON (an object or an array of objects) or a form; the tag is the URL path (without
 * the leading slash) or the input's tag for `/`, and `tag_key` takes it from each record. Answers
 * `successful_response_code` (201), 400 for a body it cannot read, 413 over `buffer_max_size`, and
 * with `ack: on` answers only after every output accepted the records (503 if one gave up).
 */
export const httpInput: InputPlugin<typeof schema> = {
  name: 'http',
  schema,
  create(o, ctx) {
    const headers: Record<string, string> = {};
    for (const h of o.success_header ?? []) {
      const i = h.search(/\s/);
      if (i > 0) headers[h.slice(0, i)] = h.slice(i).trim();
    }
    const bodyOptions = bodyLimit(o.buffer_max_size);
    const handle = async (req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== 'POST')
        return sendRefusal(req, res, refusal(BAD_REQUEST, 405, 'only POST is accepted'));
      const rawPath = (req.url ?? '/').split('?')[0]!;
      let path: string;
      try {
        path = decodeURIComponent(rawPath).replace(/^\/+/, '');
      } catch {
        ctx.reject('invalid_path', { path: rawPath.slice(0, 200) });
        return sendRefusal(
          req,
          res,
          refusal(BAD_REQUEST, 400, 'the URL path is not valid percent-encoded UTF-8'),
        );
      }
      let raw: Buffer;
      try {
        raw = await readBody(req, bodyOptions);
      } catch (err) {
        if (isSproutError(err, 'SPROUT_ERR_COLLECTOR_TOO_LARGE')) {
          ctx.reject('too_large', { limit: o.buffer_max_size });
          return sendRefusal(
            req,
            res,
            refusal(
              'SPROUT_ERR_COLLECTOR_TOO_LARGE',
              413,
              `body over buffer_max_size (${o.buffer_max_size} bytes)`,
            ),
          );
        }
        ctx.reject('unreadable', { error: (err as Error).message });
        return sendRefusal(req, res, refusal('SPROUT_ERR_COLLECTOR_DECODE', 400, 'cannot read the body'));
      }
      const bodies = bodiesOf(String(req.headers['content-type'] ?? ''), raw);
      if (typeof bodies === 'string') {
        ctx.reject('invalid_body', { error: bodies });
        return sendRefusal(req, res, refusal('SPROUT_ERR_COLLECTOR_DECODE', 400, bodies));
      }
      const tag = path || ctx.tag;
      const time = nowNs();
      const records: CollectorRecord[] = bodies.map((body) => {
        const t = o.tag_key !== undefined ? body[o.tag_key] : undefined;
        return { time, tag: typeof t === 'string' && t ? t : tag, body };
      });
      try {
        await ctx.emit(records, raw.length, { ifFull: 'refuse' });
      } catch (err) {
        const e = unavailable(err);
        return sendRefusal(req, res, e, e.code === 'SPROUT_ERR_COLLECTOR_BUFFER_FULL' ? RETRY_AFTER : {});
      }
      res.writeHead(o.successful_response_code, headers).end();
    };
    const tls = serverTlsOptions(o, 'http');
    return httpListener({ listen: o.listen, port: o.port, field: 'http.port', tls }, handle, ctx.reject);
  },
};
