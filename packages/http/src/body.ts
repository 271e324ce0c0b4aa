import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';

export interface ReadBodyOptions {
  /** The largest body accepted, in bytes (after decompression when `decompress` is on). */
  limit: number;
  /** Builds the error a body over the limit is refused with (each package answers with its own code). */
  tooLarge: (limit: number) => Error;
  /** Builds the error for a body that could not be read (client aborted, stream error). */
  broken?: (reason: string) => Error;
  /** Inflate `content-encoding: gzip | deflate` bodies before counting. */
  decompress?: boolean;
}

/** True when the request declares a body (a content-length over 0 or a transfer-encoding). */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0';
}

/**
 * Reads a request body, refusing it at the first byte that decides: a declared Content-Length over
 * the limit is refused before reading, a streamed (chunked) body as soon as it passes the limit. The
 * rest of a refused body is drained so the connection can answer.
 *
 * @example
 * const buf = await readBody(req, { limit: 1 << 20, tooLarge: (n) => new MyError('TOO_LARGE', `over ${n} bytes`, { status: 413 }) });
 */
export function readBody(req: IncomingMessage, o: ReadBodyOptions): Promise<Buffer> {
  const { limit } = o;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(o.tooLarge(limit));
  }
  const enc = o.decompress ? String(req.headers['content-encoding'] ?? '').toLowerCase() : '';
  const stream: NodeJS.ReadableStream =
    enc === 'gzip' ? req.pipe(createGunzip()) : enc === 'deflate' ? req.pipe(createInflate()) : req;
  const broken = o.broken ?? ((reason: string) => new Error(reason));
  // Plain listeners rather than `for await`: the async iterator costs more than a small body's parse.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined) => {
      if (done) return;
      done = true;
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.removeListener('data', onData);
        req.resume();
        finish(o.tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.once('end', () => finish(undefined));
    stream.once('error', (err: Error) => finish(broken(`request body could not be read: ${err.message}`)));
    if (stream !== req)
      req.once('error', (err) => finish(broken(`request body could not be read: ${err.message}`)));
    req.once('aborted', () => finish(broken('client aborted while sending the body')));
  });
}
