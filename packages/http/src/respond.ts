import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorBody } from './error.js';
import { SproutError } from './error.js';

/** Answers `status` with a JSON body; a response that already started is cut instead. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** What `sendError` answers for an error that is not a coded Sprout error: a 500 that hides its details. */
export interface InternalFallback {
  code: string;
  message?: string;
}

/**
 * Answers a coded JSON error, `{ error: { code, message, field? } }` with the error's status and an
 * `x-sprout-error-code` header. Anything that is not a SproutError is a 500 with `fallback.code`
 * and no internals.
 *
 * @example
 * sendError(res, err, { code: 'SPROUT_ERR_PLATFORM_INTERNAL' });
 */
export function sendError(
  res: ServerResponse,
  err: unknown,
  fallback: InternalFallback,
  headers: Record<string, string> = {},
): void {
  const e =
    err instanceof SproutError
      ? err
      : new SproutError(fallback.code, fallback.message ?? 'internal error', { status: 500, cause: err });
  sendJson(res, e.status, e.toJSON(), { 'x-sprout-error-code': e.code, ...headers });
}

/** The body of a coded error made on the spot (for callers that have no error object). */
export function errorBody(code: string, message: string, extra?: Record<string, unknown>): ErrorBody {
  return { error: { code, message, ...extra } };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Writes a coded JSON error on a raw socket (upgrade requests, parse errors) and closes it. */
export function sendSocketError(socket: Duplex, status: number, code: string, message: string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nx-sprout-error-code: ${code}\r\nconnection: close\r\n\r\n${body}`,
  );
}
