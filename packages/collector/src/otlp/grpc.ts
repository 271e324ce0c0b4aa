import {
  constants,
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { gunzip, inflate } from 'node:zlib';
import { SERVER_LIMIT_DEFAULTS } from '@sprout/http';
import { encodeResponse, type Signal } from './proto.js';

const methods: Record<string, Signal> = {
  '/opentelemetry.proto.collector.logs.v1.LogsService/Export': 'logs',
  '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export': 'metrics',
  '/opentelemetry.proto.collector.trace.v1.TraceService/Export': 'traces',
};

/** The gRPC status codes this server answers with. */
const GrpcStatus = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** What the handler answers: nothing (success) or a gRPC status with a message. */
export type GrpcOutcome = undefined | { code: 'invalid' | 'unavailable'; message: string };

const ACCEPT_ENCODING = 'identity,gzip,deflate';

/** grpc-message is percent-encoded: bytes outside printable ASCII, and '%' itself. */
function grpcMessage(s: string): string {
  let out = '';
  for (const b of Buffer.from(s.slice(0, 1000), 'utf8'))
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

const decompress = (enc: string, b: Buffer, max: number) =>
  new Promise<Buffer>((resolve, reject) =>
    (enc === 'gzip' ? gunzip : inflate)(b, { maxOutputLength: max }, (err, out) =>
      err ? reject(err) : resolve(out),
    ),
  );

/**
 * An OTLP/gRPC server (the three unary Export methods of opentelemetry-proto) on node:http2: gRPC's
 * length-prefixed framing, identity/gzip/deflate message compression, statuses in trailers. It
 * serves connections handed to it (`server.emit('connection', stream)`, the shared HTTP port) and,
 * when told to listen, a port of its own. Messages reach `handle` as raw protobuf; a message over
 * `maxBytes` (before or after decompression) is answered RESOURCE_EXHAUSTED without being read to
 * the end. Protocol errors (bad frames, a broken session) are counted through `reject`.
 */
export function otlpGrpcServer(
  o: {
    maxBytes: number;
    /**
     * A session with no frame in or out for this long is closed (gracefully: streams in flight
     * finish), so connections that stall mid-frame are not held for ever. Default 120,000 ms.
     */
    idleTimeoutMs?: number;
    /**
     * A session whose peer has not sent its SETTINGS (the end of the connection preface) this long
     * after it opened is a slow client, not a gRPC one, and is destroyed: the request-head timeout
     * of every Sprout listener (10,000 ms by default).
     */
    prefaceTimeoutMs?: number;
    /**
     * Serves an HTTP/2 request that is not a gRPC call (no `application/grpc` content type), as
     * OTLP/HTTP over HTTP/2; without it such a request is refused (405 or 415).
     */
    http?: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
  },
  handle: (signal: Signal, body: Buffer) => Promise<GrpcOutcome>,
  reject: (reason: string, detail: Record<string, unknown>) => void,
): { server: Http2Server; close(): Promise<void> } {
  const sessions = new Set<ServerHttp2Session>();
  const server = createServer({ maxSessionMemory: Math.max(10, Math.ceil((o.maxBytes * 2) / 2 ** 20)) });
  // Its own port gets the connection cap of every Sprout listener; over it, new connections are
  // refused (a connection handed over from the shared port is counted by that port's cap).
  server.maxConnections = SERVER_LIMIT_DEFAULTS.maxConnections;
  const idleMs = o.idleTimeoutMs ?? 120_000;
  const prefaceMs = o.prefaceTimeoutMs ?? SERVER_LIMIT_DEFAULTS.headersTimeoutMs;
  server.on('session', (s) => {
    sessions.add(s);
    // Slowloris over HTTP/2: the preface and SETTINGS trickled in, or never finished.
    const slow = setTimeout(() => {
      reject('truncated', { error: `no HTTP/2 SETTINGS within ${prefaceMs} ms` });
      s.destroy();
    }, prefaceMs);
    s.once('remoteSettings', () => clearTimeout(slow));
    s.on('close', () => {
      clearTimeout(slow);
      sessions.delete(s);
    });
    s.setTimeout(idleMs, () => {
      s.close();
      // A peer that never reads or acknowledges does not keep it either.
      setTimeout(() => s.destroy(), 2000).unref();
    });
    s.on('error', (err: Error) => reject('protocol', { error: err.message }));
    s.on('frameError', (type: number, code: number) =>
      reject('protocol', { error: `frame type ${type} error ${code}` }),
    );
  });
  server.on('sessionError', () => undefined); // counted by the session's own 'error' listener
  server.on('stream', (stream, headers) => {
    try {
      serve(stream, headers);
    } catch (err) {
      internal(stream, err);
    }
  });

  /** Anything unexpected while serving a call: counted, answered INTERNAL, the session kept. */
  const internal = (stream: ServerHttp2Stream, err: unknown) => {
    reject('internal', { error: err instanceof Error ? err.message : String(err) });
    try {
      trailersOnly(stream, GrpcStatus.INTERNAL, 'internal error');
    } catch {
      stream.destroy();
    }
  };

  const trailersOnly = (stream: ServerHttp2Stream, code: number, message: string, extra = {}) => {
    if (stream.destroyed || stream.headersSent) return;
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': String(code),
        'grpc-message': grpcMessage(message),
        ...extra,
      },
      { endStream: true },
    );
    // The request may still be sending: stop it (RST_STREAM NO_ERROR, as RFC 9113 §8.1 allows).
    stream.close(constants.NGHTTP2_NO_ERROR);
  };

  /** A request that is no gRPC call: an HTTP status with a coded header, unless the client already left. */
  const refuseHttp = (stream: ServerHttp2Stream, status: number) => {
    if (stream.destroyed || stream.headersSent) return;
    stream.respond(
      { ':status': status, 'x-sprout-error-code': 'SPROUT_ERR_COLLECTOR_BAD_REQUEST' },
      { endStream: true },
    );
    stream.close(constants.NGHTTP2_NO_ERROR);
  };

  function serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders) {
    stream.on('error', () => undefined); // a reset by the client; nothing to answer
    if (o.http && !/^application\/grpc($|[+;])/.test(String(headers['content-type'] ?? '')))
      return o.http(stream, headers);
    const path = String(headers[':path'] ?? '');
    if (headers[':method'] !== 'POST') {
      reject('protocol', { error: `method ${String(headers[':method'])}` });
      return refuseHttp(stream, 405);
    }
    const type = String(headers['content-type'] ?? '');
    if (!/^application\/grpc($|[+;])/.test(type)) {
      reject('invalid_body', { error: `content type '${type}'` });
      return refuseHttp(stream, 415);
    }
    const signal = methods[path];
    if (!signal) {
      reject('protocol', { error: `unknown method ${path}` });
      return trailersOnly(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${path}`);
    }
    const enc = String(headers['grpc-encoding'] ?? 'identity').toLowerCase();
    if (enc !== 'identity' && enc !== 'gzip' && enc !== 'deflate') {
      reject('invalid_body', { error: `grpc-encoding '${enc}'` });
      return trailersOnly(stream, GrpcStatus.UNIMPLEMENTED, `unsupported grpc-encoding '${enc}'`, {
        'grpc-accept-encoding': ACCEPT_ENCODING,
      });
    }
    const parts: Buffer[] = [];
    let size = 0;
    let refused = false;
    stream.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > o.maxBytes + 5) {
        refused = true;
        reject('too_large', { limit: o.maxBytes });
        trailersOnly(
          stream,
          GrpcStatus.RESOURCE_EXHAUSTED,
          `message over buffer_max_size (${o.maxBytes} bytes)`,
        );
        return;
      }
      parts.push(c);
    });
    stream.on('end', () => {
      if (refused) return;
      finish(stream, signal, enc, parts.length === 1 ? parts[0]! : Buffer.concat(parts, size)).catch((err) =>
        internal(stream, err),
      );
    });
  }

  async function finish(stream: ServerHttp2Stream, signal: Signal, enc: string, frame: Buffer) {
    // Unary: exactly one length-prefixed message (flag byte, 4-byte big-endian length, bytes).
    const len = frame.length >= 5 ? frame.readUInt32BE(1) : -1;
    if (len < 0 || frame.length !== 5 + len || frame[0]! > 1) {
      reject('decode', { signal, error: 'not one gRPC length-prefixed message' });
      return trailersOnly(
        stream,
        GrpcStatus.INVALID_ARGUMENT,
        'the request is not one gRPC length-prefixed message',
      );
    }
    let body = frame.subarray(5);
    if (frame[0] === 1) {
      if (enc === 'identity') {
        reject('decode', { signal, error: 'compressed message without grpc-encoding' });
        return trailersOnly(stream, GrpcStatus.INTERNAL, 'compressed message without grpc-encoding');
      }
      try {
        body = await decompress(enc, body, o.maxBytes);
      } catch (err) {
        const tooLarge =
          err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
        reject(tooLarge ? 'too_large' : 'decode', { signal, error: (err as Error).message });
        return trailersOnly(
          stream,
          tooLarge ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.INVALID_ARGUMENT,
          tooLarge
            ? `message over buffer_max_size (${o.maxBytes} bytes) once decompressed`
            : `cannot ${enc}-decompress the message`,
        );
      }
    }
    let outcome: GrpcOutcome;
    try {
      outcome = await handle(signal, body);
    } catch (err) {
      outcome = { code: 'unavailable', message: (err as Error).message };
    }
    if (stream.destroyed || stream.headersSent) return;
    if (outcome)
      return trailersOnly(
        stream,
        outcome.code === 'invalid' ? GrpcStatus.INVALID_ARGUMENT : GrpcStatus.UNAVAILABLE,
        outcome.message,
      );
    const msg = encodeResponse(signal);
    const out = Buffer.alloc(5 + msg.length);
    out.writeUInt32BE(msg.length, 1);
    out.set(msg, 5);
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': ACCEPT_ENCODING },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(out);
  }

  return {
    server,
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
    },
  };
}
