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
  // Plain listeners rather than `for await`: the async iterator costs more than the parsing of a small body.
  return new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      parts.push(chunk);
    });
    stream.once('end', () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
    stream.once('error', reject);
    if (stream !== req) req.once('error', reject);
  });
}
