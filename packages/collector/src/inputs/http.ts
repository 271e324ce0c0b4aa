import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { Server as TlsServer } from 'node:tls';
import { isSproutError, readBodyThen } from '@sprout/http';
import { z } from 'zod';
import { bool, many, port } from '../config/values.js';
import { ACCEPTED, type InputContext, type InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord } from '../types.js';
import {
  answerFailure,
  httpListener,
  refusal,
  RETRY_AFTER,
  sendRefusal,
  unavailable,
} from './http-server.js';
import { BOTH_VERSIONS_ALPN, peerAddress, serveHttp2Too } from './http-versions.js';
import { bodyLimit } from './net.js';
import { httpServerKeys, listenerOptions, responseCode, type ServerKeyValues } from './http-keys.js';
import { applyHttpKeepAlive, applyNetKeys, withAcceptTimeout } from './net-keys.js';
import { serverTlsOptions, tlsKeys } from './tls.js';

const BAD_REQUEST = 'SPROUT_ERR_COLLECTOR_BAD_REQUEST';

/** An HTTP client can come back later: a full filesystem buffer refuses its records (503). */
const REFUSE_IF_FULL = { ifFull: 'refuse' } as const;

/** The 503 for records the pipeline did not take (a full buffer asks the client to retry later). */
function refuseUnavailable(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const e = unavailable(err);
  sendRefusal(req, res, e, e.code === 'SPROUT_ERR_COLLECTOR_BUFFER_FULL' ? RETRY_AFTER : {});
}

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
    const { tag_key: tagKey, remote_addr_key: addrKey } = o;
    const code = o.successful_response_code;
    /** Hands a read body's records to the pipeline and answers once it took them. */
    const accept = (req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): void => {
      const bodies = bodiesOf(String(req.headers['content-type'] ?? ''), raw);
      if (typeof bodies === 'string') {
        ctx.reject('invalid_body', { error: bodies });
        return sendRefusal(req, res, refusal('SPROUT_ERR_COLLECTOR_DECODE', 400, bodies));
      }
      const tag = path || ctx.tag;
      const time = nowNs();
      const addr = o.add_remote_addr ? remoteAddress(req, l.http2) : undefined;
      const records: CollectorRecord[] = new Array<CollectorRecord>(bodies.length);
      for (let i = 0; i < bodies.length; i++) {
        const body = bodies[i]!;
        if (addr !== undefined) body[addrKey] = addr;
        const t = tagKey !== undefined ? body[tagKey] : undefined;
        records[i] = { time, tag: typeof t === 'string' && t ? t : tag, body };
      }
      let accepted: Promise<void>;
      try {
        accepted = ctx.emit(records, raw.length, REFUSE_IF_FULL);
      } catch (err) {
        return refuseUnavailable(req, res, err);
      }
      // Taken at once (the usual case): answered now, without waiting a turn for the promise.
      if (accepted === ACCEPTED) return void res.writeHead(code, headers).end();
      accepted
        .then(
          () => void res.writeHead(code, headers).end(),
          (err: unknown) => refuseUnavailable(req, res, err),
        )
        .catch((err: unknown) => answerFailure(req, res, err, ctx.reject));
    };
    // Not an async function: the body is read with a callback and the records are taken at once, so
    // a request makes no promise (the guard's try/catch does not reach the callback: it has its own).
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
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
      readBodyThen(req, bodyOptions, (err, raw) => {
        // A refusal waits a microtask, as it did after an awaited read: answered inside the stream's
        // error event, an HTTP/2 stream is reset before a gunzip pipe's own error handling pauses it,
        // which fails an assertion in Node.
        if (err) return queueMicrotask(() => refuseBody(req, res, err));
        try {
          accept(req, res, path, raw!);
        } catch (e) {
          answerFailure(req, res, e, ctx.reject);
        }
      });
    };
    /** The answer to a body that could not be read: too large (413) or broken (400). */
    const refuseBody = (req: IncomingMessage, res: ServerResponse, err: Error): void => {
      if (isSproutError(err, 'SPROUT_ERR_COLLECTOR_TOO_LARGE')) {
        ctx.reject('too_large', { limit: l.maxBytes });
        return sendRefusal(
          req,
          res,
          refusal('SPROUT_ERR_COLLECTOR_TOO_LARGE', 413, `body over buffer_max_size (${l.maxBytes} bytes)`),
        );
      }
      ctx.reject('unreadable', { error: err.message });
      sendRefusal(req, res, refusal('SPROUT_ERR_COLLECTOR_DECODE', 400, 'cannot read the body'));
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
