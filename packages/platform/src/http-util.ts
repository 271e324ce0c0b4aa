import type { IncomingMessage, ServerResponse } from 'node:http';
import { PlatformError } from './errors.js';

/** An error of another Sprout package (e.g. `SPROUT_ERR_EIP_*`) answered with its own code. */
export class ForeignApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Answers `{ error: { code, message } }`; an error without a Sprout code is a 500 that hides its details. */
export function sendError(res: ServerResponse, err: unknown): void {
  const e =
    err instanceof PlatformError || err instanceof ForeignApiError
      ? err
      : new PlatformError('SPROUT_ERR_PLATFORM_INTERNAL', 'internal error', 500, { cause: err });
  sendJson(res, e.status, { error: { code: e.code, message: e.message } });
}

/** Reads a text body (YAML, JSON) up to `limit` bytes; oversized bodies are `SPROUT_ERR_PLATFORM_INVALID_REQUEST`. */
export async function readText(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit)
    throw new PlatformError('SPROUT_ERR_PLATFORM_INVALID_REQUEST', `body over ${limit} bytes`, 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit)
      throw new PlatformError('SPROUT_ERR_PLATFORM_INVALID_REQUEST', `body over ${limit} bytes`, 413);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a JSON body up to `limit` bytes; malformed or oversized bodies are `SPROUT_ERR_PLATFORM_INVALID_REQUEST`. */
export async function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const text = await readText(req, limit);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_INVALID_REQUEST',
      `body is not JSON: ${(err as Error).message}`,
    );
  }
}
