import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendSocketError } from './respond.js';

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
 */
export function answerClientErrors(server: Pick<Server, 'on'>): void {
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
