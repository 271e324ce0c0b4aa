import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { Server as TlsServer } from 'node:tls';
import { isSproutError, readBody } from '@sprout/http';
import { z } from 'zod';
import { bool, many, port } from '../config/values.js';
import type { InputContext, InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import { httpListener, refusal, RETRY_AFTER, sendRefusal, unavailable } from './http-server.js';
import { BOTH_VERSIONS_ALPN, peerAddress, serveHttp2Too } from './http-versions.js';
import { bodyLimit } from './net.js';
import { httpServerKeys, listenerOptions, responseCode, type ServerKeyValues } from './http-keys.js';
import { applyHttpKeepAlive, applyNetKeys, withAcceptTimeout } from './net-keys.js';
import { serverTlsOptions, tlsKeys } from './tls.js';

const BAD_REQUEST = 'SPROUT_ERR_COLLECTOR_BAD_REQUEST';

/**
 * Sets up an HTTP input's listener before it listens: HTTP/2 on the same port (`http2`), the
 * connection cap, keep-alive and the `net.*` keys. Returns the listen backlog.
 */
function configureListener(
  server: HttpServer,
  o: ServerKeyValues,
  ctx: Pick<InputContext, 'log' | 'reject'>,
  input: string,
): number {
  const l = listenerOptions(o);
  if (l.maxConnections > 0) server.maxConnections = l.maxConnections;
  const h2 = l.http2
    ? serveHttp2Too(server, { tls: server instanceof TlsServer, reject: ctx.reject })
    : undefined;
  applyHttpKeepAlive(server, h2, o, l.idleMs);
  return applyNetKeys(server, o, ctx.log, input);
}

const schema = z.strictObject({
  listen: z.string().default('0.0.0.0'),
  port: port.default(9880),
  tag_key: z.string().optional(),
  successful_response_code: responseCode.default(201),
  success_header: many.optional(),
  /** Adds the client's address: the first X-Forwarded-For value, else the peer's address. */
  add_remote_addr: bool.default(false),
  remote_addr_key: z.string().min(1).default('REMOTE_ADDR'),
  /** GET /health answers 200 `{status: "ok", timestamp}`. */
  enable_health_endpoint: bool.default(false),
  ...httpServerKeys,
  ...tlsKeys,
});

/**
 * The client address `add_remote_addr` records: the first value of an X-Forwarded-For header (of the
 * last such header with HTTP/2 on, of the first with it off, as fluent-bit documents), else the
 * address the connection came from.
 */
function remoteAddress(req: IncomingMessage, lastHeader: boolean): string | undefined {
  const values: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.toLowerCase() === 'x-forwarded-for') values.push(raw[i + 1]!);
  const header = lastHeader ? values[values.length - 1] : values[0];
  const first = header?.split(',')[0]!.trim();
  return first || peerAddress(req);
}

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
    const l = listenerOptions(o);
    const bodyOptions = bodyLimit(l.maxBytes);
    const handle = async (req: IncomingMessage, res: ServerResponse) => {
      if (o.enable_health_endpoint && req.method === 'GET' && req.url?.split('?')[0] === '/health') {
        const body = JSON.stringify({ status: 'ok', timestamp: Math.floor(Date.now() / 1000) });
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      }
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
          ctx.reject('too_large', { limit: l.maxBytes });
          return sendRefusal(
            req,
            res,
            refusal('SPROUT_ERR_COLLECTOR_TOO_LARGE', 413, `body over buffer_max_size (${l.maxBytes} bytes)`),
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
      const addr = o.add_remote_addr ? remoteAddress(req, l.http2) : undefined;
      const records: CollectorRecord[] = bodies.map((body) => {
        if (addr !== undefined) body[o.remote_addr_key] = addr;
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
    return httpListener(
      {
        listen: o.listen,
        port: o.port,
        field: 'http.port',
        tls: withAcceptTimeout(tls && l.http2 ? { ...tls, ALPNProtocols: BOTH_VERSIONS_ALPN } : tls, o),
        configure: (server) => configureListener(server, o, ctx, 'http'),
      },
      handle,
      ctx.reject,
    );
  },
};
