import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, sendJson, sendSocketError } from './respond.js';

/** What Node's HTTP parser error is answered with: a head too large 431, too slow 408, else 400. */
function clientErrorStatus(err: NodeJS.ErrnoException): number {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 431;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * Answers what Node's HTTP parser refuses (a request line or header that is no HTTP, contradictory
 * framing, a head too large or too slow) with the coded JSON error of every other refusal,
 * `SPROUT_ERR_HTTP_MALFORMED_REQUEST` (400, 431 or 408), instead of Node's bare 400, and closes the
 * connection. A connection the peer already reset is only destroyed.
 *
 * It also turns the server's `requireHostHeader` off: Node would answer an HTTP/1.1 request without
 * Host itself, before any handler, with a bare 400 (no code, chunked). The server's request handler
 * must then call `refuseHostless` first, which answers that request coded.
 */
export function answerClientErrors(server: Pick<Server, 'on'> & { requireHostHeader?: boolean }): void {
  server.requireHostHeader = false;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    sendSocketError(
      socket,
      clientErrorStatus(err),
      'SPROUT_ERR_HTTP_MALFORMED_REQUEST',
      `the request could not be read: ${err.code ?? err.message}`,
    );
  });
}

/**
 * Refuses an HTTP/1.1 request without a Host header (RFC 9112 §3.2; HTTP/1.0 needs none), as Node
 * would with `requireHostHeader` but coded: 400 with `code` (default
 * `SPROUT_ERR_HTTP_MALFORMED_REQUEST`) in `x-sprout-error-code` and a JSON body naming the missing
 * Host, and `connection: close`. Returns whether it answered; call it first in the request handler
 * of a server that `answerClientErrors` set up. One property test for any other request.
 *
 * @example
 * const server = createServer((req, res) => {
 *   if (!refuseHostless(req, res)) handle(req, res);
 * });
 * answerClientErrors(server);
 */
export function refuseHostless(
  req: IncomingMessage,
  res: ServerResponse,
  code = 'SPROUT_ERR_HTTP_MALFORMED_REQUEST',
): boolean {
  if (req.headers.host !== undefined || req.httpVersionMinor !== 1 || req.httpVersionMajor !== 1)
    return false;
  sendJson(res, 400, errorBody(code, 'an HTTP/1.1 request must carry a Host header'), {
    'x-sprout-error-code': code,
    connection: 'close',
  });
  return true;
}
