import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TlsOptions } from 'node:tls';
import type { Socket } from 'node:net';
import { applyServerLimits, isSproutError, refuseHostless, sendError, sendSocketError } from '@sprout/http';
import { CollectorError, type CollectorErrorCode } from '../errors.js';
import { addressOf, closeServer, listen } from './net.js';

/** Counts and logs what a server refused (an input's `ctx.reject`). */
type Reject = (reason: string, detail: Record<string, unknown>) => void;

/** A request handler; a throw or a rejected promise is answered by the guard. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** How an error of the HTTP/1 parser is answered: status, code, the reason it is counted under. */
function parserErrorAnswer(err: NodeJS.ErrnoException): [number, CollectorErrorCode, string] {
  if (err.code === 'HPE_HEADER_OVERFLOW') return [431, 'SPROUT_ERR_COLLECTOR_TOO_LARGE', 'too_large'];
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'SPROUT_ERR_COLLECTOR_DECODE', 'truncated'];
  return [400, 'SPROUT_ERR_COLLECTOR_DECODE', 'malformed'];
}

/**
 * Answers a coded JSON error (`{error: {code, message}}` and `x-sprout-error-code`, a 500 that hides
 * its details for anything uncoded). A request whose body was not read to the end gets
 * `connection: close`; a response already under way is cut instead.
 */
export function sendRefusal(
  req: IncomingMessage,
  res: ServerResponse,
  err: unknown,
  headers: Record<string, string> = {},
): void {
  // HTTP/2 has no connection header: an unread body there is reset with its stream alone.
  const close: Record<string, string> =
    req.complete || req.httpVersionMajor >= 2 ? {} : { connection: 'close' };
  sendError(res, err, { code: 'SPROUT_ERR_COLLECTOR_INTERNAL' }, { ...close, ...headers });
}

/**
 * Answers what a request handler threw (or rejected with), as the guard of guardedHttpServer does: a
 * coded refusal, a 500 `SPROUT_ERR_COLLECTOR_INTERNAL` counted as `internal` for anything uncoded.
 * For a handler that goes on in a callback of its own, where the guard no longer sees its throws.
 */
export function answerFailure(req: IncomingMessage, res: ServerResponse, err: unknown, reject: Reject): void {
  if (!isSproutError(err)) reject('internal', { error: err instanceof Error ? err.message : String(err) });
  sendRefusal(req, res, err);
}

/** A coded refusal with its HTTP status, for the answers of the HTTP inputs. */
export function refusal(code: CollectorErrorCode, status: number, message: string): CollectorError {
  return new CollectorError(code, message, undefined, { status });
}

/**
 * An HTTP/1.1 server no request can bring down: whatever the handler throws (or rejects with) is
 * answered with a coded error (a 500 `SPROUT_ERR_COLLECTOR_INTERNAL` for anything uncoded) and
 * counted as `internal`; bytes the HTTP parser refuses (garbage, bad framing, oversized headers, too
 * slow) are answered 400, 431 or 408 with a coded body and counted (`malformed`, `too_large`,
 * `truncated`), and so is an HTTP/1.1 request without Host (`malformed`, instead of Node's bare
 * 400). The connection of a refused request is closed; the server keeps serving. With `tls`
 * (see serverTlsOptions) it serves HTTPS; a failed handshake only ends that connection. It keeps
 * the listener limits of every Sprout server (`applyServerLimits`: connection cap, header, request
 * and keep-alive timeouts), so slow clients cannot hold it.
 */
export function guardedHttpServer(handler: RequestHandler, reject: Reject, tls?: TlsOptions): Server {
  // No closure made per request: each one costs a call under tsx's keepNames, on every request.
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    // coded like the parser's refusals: 400 SPROUT_ERR_COLLECTOR_DECODE, counted as malformed
    if (refuseHostless(req, res, 'SPROUT_ERR_COLLECTOR_DECODE'))
      return reject('malformed', { error: 'no Host header' });
    try {
      const pending = handler(req, res);
      if (pending instanceof Promise) pending.catch((err) => answerFailure(req, res, err, reject));
    } catch (err) {
      answerFailure(req, res, err, reject);
    }
  };
  // Node answers an HTTP/1.1 request without Host itself, with a bare 400: refuseHostless codes it.
  const options = { requireHostHeader: false };
  const server: Server = tls
    ? createHttpsServer({ ...tls, ...options }, onRequest)
    : createServer(options, onRequest);
  applyServerLimits(server);
  if (tls) server.on('tlsClientError', (_err: Error, s: Socket) => s.destroy());
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const [status, code, reason] = parserErrorAnswer(err);
    reject(reason, { error: err.code ?? err.message });
    sendSocketError(socket, status, code, `the request could not be read: ${err.code ?? err.message}`);
  });
  return server;
}

/** An HTTP input's guarded server: listens on start (coded error naming `field`), closes with its connections. */
export function httpListener(
  o: {
    listen: string;
    port: number;
    field: string;
    tls?: TlsOptions | undefined;
    /** Sets the server up before it listens (the input's network keys); returns the listen backlog. */
    configure?: (server: Server) => number;
  },
  handler: RequestHandler,
  reject: Reject,
): { start(): Promise<void>; close(): Promise<void>; address(): ReturnType<typeof addressOf> } {
  const sockets = new Set<Socket>();
  const server = guardedHttpServer(handler, reject, o.tls);
  const backlog = o.configure?.(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    start: () => listen(server, o.field, { port: o.port, host: o.listen }, backlog),
    close: () => closeServer(server, sockets),
    address: () => addressOf(server),
  };
}

/** Sent with a 503 for a full filesystem buffer: clients that honour it come back in a second. */
export const RETRY_AFTER = { 'retry-after': '1' };

/**
 * The 503 an HTTP input answers when the pipeline did not take the records (the collector closing,
 * an output that gave up under `ack: on`, a full filesystem buffer), keeping the pipeline's code.
 */
export function unavailable(err: unknown): CollectorError {
  return err instanceof CollectorError
    ? refusal(err.code, 503, err.message)
    : refusal('SPROUT_ERR_COLLECTOR_INTERNAL', 503, 'the pipeline did not accept the records');
}
