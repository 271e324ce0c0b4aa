import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isSproutError, readBody } from '@sprout/http';
import { z } from 'zod';
import { bool, port, size } from '../config/values.js';
import { requestToRecords } from '../otlp/convert.js';
import { decodeLogsToRecords } from '../otlp/logs-decode.js';
import { decodeRequest, encodeResponse, type Signal } from '../otlp/proto.js';
import type { CollectorRecord } from '../types.js';
import type { InputPlugin } from '../plugin.js';
import type { CollectorErrorCode } from '../errors.js';
import { guardedHttpServer, RETRY_AFTER, unavailable } from './http-server.js';
import { addressOf, bodyLimit, closeServer, listen } from './net.js';
import { otlpGrpcServer } from '../otlp/grpc.js';
import { sniffConnection } from '../otlp/sniff.js';

const schema = z.strictObject({
  listen: z.string().default('0.0.0.0'),
  port: port.default(4318),
  tag_key: z.string().optional(),
  tag_from_uri: bool.default(true),
  raw_traces: bool.default(false),
  buffer_max_size: size().default(4 * 1024 * 1024),
  buffer_chunk_size: size().default(512 * 1024),
  /** fluent-bit's: serve HTTP/2 (OTLP/gRPC, h2c with prior knowledge) on `port` next to HTTP/1.1. */
  http2: bool.default(true),
  /** Sprout: also serve OTLP/gRPC on a port of its own. */
  grpc_port: port.optional(),
  successful_response_code: z.coerce
    .number()
    .pipe(z.union([z.literal(200), z.literal(201), z.literal(204)]))
    .default(201),
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
     * An export request (protobuf bytes, or OTLP/JSON already parsed) → records; throws when it does
     * not decode. Protobuf logs, the bulk of the traffic, take the one-pass decoder.
     */
    const toRecords = (signal: Signal, body: Buffer | Record<string, unknown>) => {
      const tag = o.tag_from_uri ? `v1_${signal}` : ctx.tag;
      if (!Buffer.isBuffer(body)) return requestToRecords(signal, body, tag, o.raw_traces);
      if (signal === 'logs') return decodeLogsToRecords(body, tag);
      return requestToRecords(signal, decodeRequest(signal, body), tag, o.raw_traces);
    };
    /** Hands records over; rejects if the pipeline refused them. */
    const accept = async (records: CollectorRecord[], bytes: number) => {
      if (o.tag_key) {
        for (const r of records) {
          const attrs = (r.meta?.otlp as { attributes?: Record<string, unknown> } | undefined)?.attributes;
          const t = r.body[o.tag_key] ?? attrs?.[o.tag_key];
          if (typeof t === 'string' && t) r.tag = t;
        }
      }
      if (records.length) await ctx.emit(records, bytes, { ifFull: 'refuse' });
    };
    const grpc = otlpGrpcServer(
      { maxBytes: o.buffer_max_size },
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
    const bodyOptions = bodyLimit(o.buffer_max_size);
    const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const signal = paths[path];
      if (!signal)
        return fail(res, 404, `unknown path ${path} (use /v1/logs, /v1/metrics or /v1/traces)`, BAD_REQUEST);
      if (req.method !== 'POST') return fail(res, 405, 'only POST is accepted', BAD_REQUEST);
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
        ctx.reject(tooLarge ? 'too_large' : 'unreadable', { limit: o.buffer_max_size });
        return fail(
          res,
          tooLarge ? 413 : 400,
          tooLarge ? `body over buffer_max_size (${o.buffer_max_size} bytes)` : 'cannot read the body',
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
    // A throw while handling a request, or bytes the HTTP/1 parser refuses, are answered and counted.
    const http = guardedHttpServer(onRequest, ctx.reject);
    const sockets = new Set<Socket>();
    // Node's own connection listener is the first; the connection cap of the listener limits stays.
    const [serveHttp1] = http.listeners('connection') as Array<(s: Socket) => void>;
    http.removeListener('connection', serveHttp1!);
    http.on('connection', (socket: Socket) => {
      if (socket.destroyed) return; // closed by the connection cap
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      if (!o.http2) return serveHttp1!.call(http, socket);
      // One port for both (as fluent-bit): the HTTP/2 preface sends a connection to the gRPC server.
      sniffConnection(socket, {
        timeoutMs: http.headersTimeout,
        http1: (s) => serveHttp1!.call(http, s),
        http2: (stream) => grpc.server.emit('connection', stream),
        reject: (reason, detail) => ctx.reject(reason, detail),
      });
    });
    return {
      async start() {
        await listen(http, 'opentelemetry.port', { port: o.port, host: o.listen });
        if (o.grpc_port === undefined) return;
        try {
          await listen(grpc.server, 'opentelemetry.grpc_port', { port: o.grpc_port, host: o.listen });
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
