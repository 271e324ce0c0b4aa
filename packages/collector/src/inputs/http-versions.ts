import type { Server as HttpServer, IncomingMessage } from 'node:http';
import {
  createServer as createHttp2Server,
  type Http2Server,
  type Http2ServerRequest,
  type Http2Session,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { sniffConnection } from '../otlp/sniff.js';

/** Counts and logs what a server refused (an input's `ctx.reject`). */
type Reject = (reason: string, detail: Record<string, unknown>) => void;

const PEER = Symbol('peer address');

/** The address a request came from, over either HTTP version (h2c included). */
export function peerAddress(req: IncomingMessage | Http2ServerRequest): string | undefined {
  const session = (req as Http2ServerRequest).stream?.session as
    (Http2Session & { [PEER]?: string }) | undefined;
  return session?.[PEER] ?? req.socket?.remoteAddress;
}

/** What an input serving both HTTP versions over TLS offers by ALPN: h2 first, then HTTP/1.1. */
export const BOTH_VERSIONS_ALPN = ['h2', 'http/1.1'];

/**
 * Makes `http1` (the guarded HTTP/1.1 server that listens; HTTPS when its TLS options offer
 * BOTH_VERSIONS_ALPN) serve HTTP/2 on the same port, as fluent-bit's HTTP inputs do, and returns
 * the HTTP/2 server: requests reach the same guarded request handler in either version. A broken
 * HTTP/2 session is counted (`protocol`).
 */
export function serveHttp2Too(http1: HttpServer, o: { tls: boolean; reject: Reject }): Http2Server {
  const h2 = createHttp2Server();
  const [guarded] = http1.listeners('request') as Array<(...a: unknown[]) => void>;
  h2.on('request', guarded!);
  h2.on('session', (s: Http2Session) => s.on('error', (err) => o.reject('protocol', { error: err.message })));
  h2.on('sessionError', () => undefined); // counted by the session's own 'error' listener
  routeHttp2(http1, h2, o);
  return h2;
}

/**
 * Hands the HTTP/2 connections `http1` accepts to `h2`: in cleartext a connection opening with the
 * HTTP/2 preface (h2c with prior knowledge; an `Upgrade: h2c` request is answered over HTTP/1.1),
 * over TLS one that agreed on h2 by ALPN. A connection that stops inside the preface is counted
 * (`truncated`). Node's own connection listener must be the first one on `http1`; the others (the
 * connection cap) stay.
 */
export function routeHttp2(http1: HttpServer, h2: Http2Server, o: { tls: boolean; reject: Reject }): void {
  const event = o.tls ? 'secureConnection' : 'connection';
  const [serveHttp1] = http1.listeners(event) as Array<(s: Socket) => void>;
  http1.removeListener(event, serveHttp1!);
  if (o.tls) {
    http1.on('secureConnection', (s: TLSSocket) => {
      if (s.alpnProtocol === 'h2') h2.emit('connection', s);
      else serveHttp1!.call(http1, s);
    });
    return;
  }
  http1.on('connection', (socket: Socket) => {
    if (socket.destroyed) return; // closed by the connection cap
    sniffConnection(socket, {
      timeoutMs: http1.headersTimeout,
      http1: (s) => serveHttp1!.call(http1, s),
      http2: (stream) => {
        // The session runs over a replaying stream, which has no address: keep the socket's.
        h2.once('session', (s: Http2Session) => Object.assign(s, { [PEER]: socket.remoteAddress }));
        h2.emit('connection', stream);
      },
      reject: o.reject,
    });
  });
}
