import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { isSproutError, readBody } from '@sprout/http';
import { z } from 'zod';
import { bool, int, onlyBool, port, refused } from '../config/values.js';
import { requestToRecords } from '../otlp/convert.js';
import { decodeLogsToRecords } from '../otlp/logs-decode.js';
import { decodeRequest, encodeResponse, type Signal } from '../otlp/proto.js';
import type { CollectorRecord } from '../types.js';
import type { InputPlugin } from '../plugin.js';
import { CollectorError, type CollectorErrorCode } from '../errors.js';
import { guardedHttpServer, RETRY_AFTER, unavailable } from './http-server.js';
import { addressOf, bodyLimit, closeServer, listen } from './net.js';
import { otlpGrpcServer } from '../otlp/grpc.js';
import { asHttp1Exchange } from '../otlp/h2-exchange.js';
import { httpServerKeys, listenerOptions, responseCode } from './http-keys.js';
import { BOTH_VERSIONS_ALPN, routeHttp2 } from './http-versions.js';
import { applyHttpKeepAlive, applyNetKeys, withAcceptTimeout } from './net-keys.js';
import { serverTlsOptions, tlsKeys } from './tls.js';

const schema = z.strictObject({
  listen: z.string().default('0.0.0.0'),
  port: port.default(4318),
  tag_key: z.string().optional(),
  tag_from_uri: bool.default(true),
  raw_traces: bool.default(false),
  /** Sprout: also serve OTLP/gRPC on a port of its own. */
  grpc_port: port.optional(),
  successful_response_code: responseCode.default(201),
  /** Set: every log body goes under this key (a map too); unset: a map is the record, others `log`. */
  logs_body_key: z.string().min(1).optional(),
  /** The key of `meta` holding a log record's OTLP fields (resource, scope, attributes, ids). */
  logs_metadata_key: z.string().min(1).default('otlp'),
  /** off: records are taken (the sender gets its success) but routed nowhere. */
  routable: bool.default(true),
  profiles_support: onlyBool(
    false,
    'profiles_support cannot be on: Sprout does not serve OTLP profiles (fluent-bit marks them experimental)',
  ),
  /** Only matters with profiles_support: checked, no effect. */
  encode_profiles_as_log: bool.optional(),
  /** Only matter with `threaded: on`, which changes nothing in Sprout: checked, no effect. */
  'thread.ring_buffer.capacity': int(1).optional(),
  'thread.ring_buffer.window': int(1, 100).optional(),
  host: refused('host is not where the input listens (that is listen); Sprout has no use for it'),
  log_suppress_interval: refused('log_suppress_interval is not implemented: every log line is written'),
  'storage.pause_on_chunks_overlimit': refused(
    "storage.pause_on_chunks_overlimit is not implemented: inputs pause when an output's storage.total_limit_size is reached",
  ),
  ...httpServerKeys,
  ...tlsKeys,
});

const BAD_REQUEST = 'SPROUT_ERR_COLLECTOR_BAD_REQUEST';

const responses: Record<Signal, Uint8Array> = {
  logs: encodeResponse('logs'),
  metrics: encodeResponse('metrics'),
  traces: encodeResponse('traces'),
};

const paths: Record<string, Signal> = {
  '/v1/logs': 'logs',
  '/v1/metrics': 'metrics',
  '/v1/traces': 'traces',
};

/**
 * `opentelemetry`: OTLP/HTTP on /v1/logs, /v1/metrics and /v1/traces, protobuf
 * (`application/x-protobuf`) and JSON (`application/json`), gzip bodies. One record per log record,
 * data point or span; with `tag_from_uri` (default) the tag is `v1_logs`, `v1_metrics` or
 * `v1_traces`. Answers `successful_response_code` with an empty export response in the request's
 * encoding; 400 for a body that does not decode, 413 over `buffer_max_size`, 415 for other types.
 * With `http2` (default, as fluent-bit) the same port also serves OTLP/gRPC: a connection opening
 * with the HTTP/2 preface goes to the gRPC server, any other to the HTTP/1.1 server.
 */
export const opentelemetryInput: InputPlugin<typeof schema> = {
  name: 'opentelemetry',
  schema,
  create(o, ctx) {
    const fail = (
      res: ServerResponse,
      status: number,
      message: string,
      code: CollectorErrorCode,
      extra: Record<string, string> = {},
    ) => {
      // google.rpc.Status as JSON (what OTLP/HTTP clients log on failure); the code in a header.
      if (res.headersSent || res.destroyed) return void res.destroy();
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-sprout-error-code': code,
        ...extra,
      };
      if (!res.req.complete) headers.connection = 'close';
      res.writeHead(status, headers).end(JSON.stringify({ code: status, message }));
    };
    /**
     * A refusal decided from the head alone answers once the body is in (up to buffer_max_size, then
     * at once): over HTTP/2 an answer ended while the client still sends closes its stream with an
     * error, which clients report instead of the status.
     */
    const refuse = (req: IncomingMessage, res: ServerResponse, status: number, message: string) => {
      if (req.complete) return fail(res, status, message, BAD_REQUEST);
      let answered = false;
      let seen = 0;
      const answer = () => {
        if (answered) return;
        answered = true;
        fail(res, status, message, BAD_REQUEST);
      };
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > l.maxBytes) answer();
      });
      req.once('end', answer);
      req.once('error', () => res.destroy());
    };
    /**
     * An export request (protobuf bytes, or OTLP/JSON already parsed) → records; throws when it does
     * not decode. Protobuf logs, the bulk of the traffic, take the one-pass decoder.
     */
    const toRecords = (signal: Signal, body: Buffer | Record<string, unknown>) => {
      // A tag set on the input wins over the URI's, as in fluent-bit.
      const tag = o.tag_from_uri && !ctx.tagSet ? `v1_${signal}` : ctx.tag;
      const records = !Buffer.isBuffer(body)
        ? requestToRecords(signal, body, tag, o.raw_traces, o.logs_body_key)
        : signal === 'logs'
          ? decodeLogsToRecords(body, tag, o.logs_body_key)
          : requestToRecords(signal, decodeRequest(signal, body), tag, o.raw_traces);
      if (signal === 'logs' && o.logs_metadata_key !== 'otlp')
        for (const r of records) r.meta = { [o.logs_metadata_key]: r.meta?.otlp };
      return records;
    };
    /** Hands records over; rejects if the pipeline refused them. */
    const accept = async (records: CollectorRecord[], bytes: number) => {
      if (o.tag_key) {
        for (const r of records) {
          const otlp = r.meta?.[r.kind ? 'otlp' : o.logs_metadata_key];
          const attrs = (otlp as { attributes?: Record<string, unknown> } | undefined)?.attributes;
          const t = r.body[o.tag_key] ?? attrs?.[o.tag_key];
          if (typeof t === 'string' && t) r.tag = t;
        }
      }
      if (records.length && o.routable) await ctx.emit(records, bytes, { ifFull: 'refuse' });
    };
    const l = listenerOptions(o);
    const ioMs = (o['net.io_timeout'] ?? 0) * 1000;
    // OTLP/HTTP over HTTP/2 (h2c, or h2 over TLS) reaches the same guarded handler as HTTP/1.1.
    let guarded: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
    const overHttp2 = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
      guarded(...asHttp1Exchange(stream, headers));
    const grpc = otlpGrpcServer(
      { maxBytes: l.maxBytes, ...(ioMs > 0 ? { idleTimeoutMs: ioMs } : {}), http: overHttp2 },
      async (signal, body) => {
        let records: CollectorRecord[];
        try {
          records = toRecords(signal, body);
        } catch (err) {
          ctx.reject('decode', { signal, error: (err as Error).message });
          return {
            code: 'invalid',
            message: `cannot decode the ${signal} export request: ${(err as Error).message}`,
          };
        }
        try {
          await accept(records, body.length);
        } catch (err) {
          return { code: 'unavailable', message: (err as Error).message };
        }
        return undefined;
      },
      (reason, detail) => ctx.reject(reason, detail),
    );
    const bodyOptions = bodyLimit(l.maxBytes);
    const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const signal = paths[path];
      if (!signal)
        return refuse(req, res, 404, `unknown path ${path} (use /v1/logs, /v1/metrics or /v1/traces)`);
      if (req.method !== 'POST') return refuse(req, res, 405, 'only POST is accepted');
      const type = String(req.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      const json = type === 'application/json';
      if (!json && type !== 'application/x-protobuf' && type !== 'application/protobuf') {
        ctx.reject('invalid_body', { error: `content type '${type}'` });
        return fail(
          res,
          415,
          `unsupported content type '${type}' (use application/x-protobuf or application/json)`,
          BAD_REQUEST,
        );
      }
      let raw: Buffer;
      try {
        raw = await readBody(req, bodyOptions);
      } catch (err) {
        const tooLarge = isSproutError(err, 'SPROUT_ERR_COLLECTOR_TOO_LARGE');
        ctx.reject(tooLarge ? 'too_large' : 'unreadable', { limit: l.maxBytes });
        return fail(
          res,
          tooLarge ? 413 : 400,
          tooLarge ? `body over buffer_max_size (${l.maxBytes} bytes)` : 'cannot read the body',
          tooLarge ? 'SPROUT_ERR_COLLECTOR_TOO_LARGE' : 'SPROUT_ERR_COLLECTOR_DECODE',
        );
      }
      let records: CollectorRecord[];
      try {
        if (json) {
          const request = JSON.parse(raw.toString('utf8')) as unknown;
          if (!request || typeof request !== 'object' || Array.isArray(request))
            throw new Error('not an object');
          records = toRecords(signal, request as Record<string, unknown>);
        } else records = toRecords(signal, raw);
      } catch (err) {
        ctx.reject('decode', { signal, error: (err as Error).message });
        return fail(
          res,
          400,
          `cannot decode the ${signal} export request: ${(err as Error).message}`,
          'SPROUT_ERR_COLLECTOR_DECODE',
        );
      }
      try {
        await accept(records, raw.length);
      } catch (err) {
        const e = unavailable(err);
        return fail(
          res,
          503,
          e.message,
          e.code,
          e.code === 'SPROUT_ERR_COLLECTOR_BUFFER_FULL' ? RETRY_AFTER : {},
        );
      }
      if (o.successful_response_code === 204) return res.writeHead(204).end();
      if (json)
        return res.writeHead(o.successful_response_code, { 'content-type': 'application/json' }).end('{}');
      // An empty export response encodes to zero bytes: headers only, one write.
      const body = responses[signal];
      res.writeHead(o.successful_response_code, {
        'content-type': 'application/x-protobuf',
        'content-length': body.length,
      });
      if (body.length) res.end(body);
      else res.end();
    };
    const tls = serverTlsOptions(o, 'opentelemetry');
    if (tls && o.grpc_port !== undefined)
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
        'grpc_port serves gRPC in cleartext; with tls on, gRPC is served on port (h2 by ALPN)',
        'opentelemetry.grpc_port',
      );
    // A throw while handling a request, or bytes the HTTP/1 parser refuses, are answered and counted.
    const http = guardedHttpServer(
      onRequest,
      ctx.reject,
      withAcceptTimeout(tls && l.http2 ? { ...tls, ALPNProtocols: BOTH_VERSIONS_ALPN } : tls, o),
    );
    // The guarded request listener (first, before any the keep-alive keys add) serves HTTP/2 too.
    guarded = http.listeners('request')[0] as typeof guarded;
    // One port for both (as fluent-bit): HTTP/2 connections (h2c preface, or h2 by ALPN) go to gRPC.
    if (l.http2) routeHttp2(http, grpc.server, { tls: !!tls, reject: ctx.reject });
    if (l.maxConnections > 0) http.maxConnections = l.maxConnections;
    applyHttpKeepAlive(http, undefined, o, l.idleMs);
    const backlog = applyNetKeys(http, o, ctx.log, 'opentelemetry');
    // grpc_port's own listener keeps the same net.* keys (idle sessions are closed by the gRPC server).
    if (o.grpc_port !== undefined) applyNetKeys(grpc.server, o, ctx.log, 'opentelemetry');
    const sockets = new Set<Socket>();
    http.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return {
      async start() {
        await listen(http, 'opentelemetry.port', { port: o.port, host: o.listen }, backlog);
        if (o.grpc_port === undefined) return;
        try {
          await listen(
            grpc.server,
            'opentelemetry.grpc_port',
            { port: o.grpc_port, host: o.listen },
            backlog,
          );
        } catch (err) {
          await closeServer(http, sockets);
          throw err;
        }
      },
      async close() {
        await Promise.all([closeServer(http, sockets), grpc.close()]);
      },
      address: () => ({
        ...addressOf(http),
        ...(o.grpc_port !== undefined ? { grpcPort: addressOf(grpc.server).port } : {}),
      }),
    };
  },
};
