import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';

/**
 * An HTTP/2 stream as the request and response an HTTP/1.1 handler expects, for the members the
 * collector's HTTP handlers use: `url`, `method`, `headers`, `complete` and the body as a readable
 * stream; `writeHead`, `end`, `headersSent`, `destroyed`, `destroy`. A `connection` header given to
 * `writeHead` is left out (HTTP/2 has none; an unread body ends with its stream alone).
 */
export function asHttp1Exchange(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
): [IncomingMessage, ServerResponse] {
  const req = Object.assign(stream, {
    headers,
    url: String(headers[':path'] ?? '/'),
    method: String(headers[':method'] ?? ''),
    complete: false,
    httpVersionMajor: 2,
  });
  stream.once('end', () => (req.complete = true));
  const res = {
    req,
    get headersSent() {
      return stream.headersSent;
    },
    get destroyed() {
      return stream.destroyed;
    },
    destroy: () => void stream.destroy(),
    writeHead(status: number, h: OutgoingHttpHeaders = {}) {
      const { connection: _dropped, ...rest } = h;
      if (!stream.destroyed) stream.respond({ ':status': status, ...rest });
      return res;
    },
    end(body?: string | Uint8Array) {
      if (!stream.destroyed) stream.end(body);
      return res;
    },
  };
  return [req as unknown as IncomingMessage, res as unknown as ServerResponse];
}
