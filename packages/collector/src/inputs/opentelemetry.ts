import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { bool, port, size } from '../config/values.js';
import { requestToRecords } from '../otlp/convert.js';
import { decodeRequest, encodeResponse, type Signal } from '../otlp/proto.js';
import type { InputPlugin } from '../plugin.js';
import { BodyTooLarge, readBody } from './http-body.js';
import { httpListener } from './net.js';
import { otlpGrpcServer } from '../otlp/grpc.js';

const schema = z.strictObject({
  listen: z.string().default('0.0.0.0'),
  port: port.default(4318),
  tag_key: z.string().optional(),
  tag_from_uri: bool.default(true),
  raw_traces: bool.default(false),
  buffer_max_size: size().default(4 * 1024 * 1024),
  buffer_chunk_size: size().default(512 * 1024),
  /** Sprout: also serve OTLP/gRPC on this port (fluent-bit serves gRPC on `port` itself). */
  grpc_port: port.optional(),
  successful_response_code: z.coerce
    .number()
    .pipe(z.union([z.literal(200), z.literal(201), z.literal(204)]))
    .default(201),
});

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
 */
export const opentelemetryInput: InputPlugin<typeof schema> = {
  name: 'opentelemetry',
  schema,
  create(o, ctx) {
    const fail = (res: ServerResponse, status: number, message: string) => {
      // google.rpc.Status as JSON: what OTLP/HTTP clients log on failure.
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code: status, message }));
    };
    /** Turns a decoded request into records and hands them over; rejects if the pipeline refused them. */
    const accept = async (signal: Signal, request: Record<string, unknown>, bytes: number) => {
      const tag = o.tag_from_uri ? `v1_${signal}` : ctx.tag;
      const records = requestToRecords(signal, request, tag, o.raw_traces);
      if (o.tag_key) {
        for (const r of records) {
          const attrs = (r.meta?.otlp as { attributes?: Record<string, unknown> } | undefined)?.attributes;
          const t = r.body[o.tag_key] ?? attrs?.[o.tag_key];
          if (typeof t === 'string' && t) r.tag = t;
        }
      }
      if (records.length) await ctx.emit(records, bytes);
    };
    const grpc =
      o.grpc_port === undefined
        ? undefined
        : otlpGrpcServer(
            { listen: o.listen, port: o.grpc_port, maxBytes: o.buffer_max_size },
            async (signal, body) => {
              let request: Record<string, unknown>;
              try {
                request = decodeRequest(signal, body);
              } catch (err) {
                ctx.reject('decode', { signal, error: (err as Error).message });
                return {
                  code: 'invalid',
                  message: `cannot decode the ${signal} export request: ${(err as Error).message}`,
                };
              }
              try {
                await accept(signal, request, body.length);
              } catch (err) {
                return { code: 'unavailable', message: (err as Error).message };
              }
              return undefined;
            },
          );
    const http = httpListener(
      { listen: o.listen, port: o.port, where: 'opentelemetry.port' },
      async (req, res) => {
        const path = (req.url ?? '/').split('?')[0]!;
        const signal = paths[path];
        if (!signal) return fail(res, 404, `unknown path ${path} (use /v1/logs, /v1/metrics or /v1/traces)`);
        if (req.method !== 'POST') return fail(res, 405, 'only POST is accepted');
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
          );
        }
        let raw: Buffer;
        try {
          raw = await readBody(req, o.buffer_max_size);
        } catch (err) {
          const tooLarge = err instanceof BodyTooLarge;
          ctx.reject(tooLarge ? 'too_large' : 'unreadable', { limit: o.buffer_max_size });
          return fail(
            res,
            tooLarge ? 413 : 400,
            tooLarge ? `body over buffer_max_size (${o.buffer_max_size} bytes)` : 'cannot read the body',
          );
        }
        let request: Record<string, unknown>;
        try {
          request = json
            ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>)
            : decodeRequest(signal, raw);
          if (!request || typeof request !== 'object' || Array.isArray(request))
            throw new Error('not an object');
        } catch (err) {
          ctx.reject('decode', { signal, error: (err as Error).message });
          return fail(res, 400, `cannot decode the ${signal} export request: ${(err as Error).message}`);
        }
        try {
          await accept(signal, request, raw.length);
        } catch (err) {
          return fail(res, 503, (err as Error).message);
        }
        if (o.successful_response_code === 204) return res.writeHead(204).end();
        if (json)
          return res.writeHead(o.successful_response_code, { 'content-type': 'application/json' }).end('{}');
        res
          .writeHead(o.successful_response_code, { 'content-type': 'application/x-protobuf' })
          .end(encodeResponse(signal));
      },
    );
    return {
      async start() {
        await http.start();
        try {
          await grpc?.start();
        } catch (err) {
          await http.close();
          throw err;
        }
      },
      async close() {
        await Promise.all([http.close(), grpc?.close()]);
      },
      address: () => ({ ...http.address(), ...(grpc ? { grpcPort: grpc.port() } : {}) }),
    };
  },
};
