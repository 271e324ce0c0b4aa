import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';

export class BodyTooLarge extends Error {}

/**
 * Reads a request body up to `limit` bytes (after decompression). Refuses at the first byte that
 * decides it: a Content-Length over the limit before reading, or the streamed size passing it.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new BodyTooLarge();
  const enc = String(req.headers['content-encoding'] ?? '').toLowerCase();
  const stream: NodeJS.ReadableStream =
    enc === 'gzip' ? req.pipe(createGunzip()) : enc === 'deflate' ? req.pipe(createInflate()) : req;
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new BodyTooLarge();
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}
