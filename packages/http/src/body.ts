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
  return new Promise((resolve, reject) => {
    readBodyThen(req, o, (err, body) => (err ? reject(err) : resolve(body!)));
  });
}

/**
 * `readBody` with a callback, called once: with the error, or with the body. For a server's hot
 * path: no promise is made, which matters where async hooks are on (AsyncLocalStorage in Node 20
 * runs a hook for every promise).
 */
export function readBodyThen(
  req: IncomingMessage,
  o: ReadBodyOptions,
  done: (err: Error | undefined, body?: Buffer) => void,
): void {
  const { limit } = o;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    done(o.tooLarge(limit));
    return;
  }
  const enc = o.decompress ? String(req.headers['content-encoding'] ?? '').toLowerCase() : '';
  const stream: NodeJS.ReadableStream =
    enc === 'gzip' ? req.pipe(createGunzip()) : enc === 'deflate' ? req.pipe(createInflate()) : req;
  // Plain listeners rather than `for await`: the async iterator costs more than a small body's parse.
  // Only unnamed ones, inline: run from source under tsx (keepNames), each named closure made per
  // request is wrapped in a defineProperty call that costs more than reading a small body. A refused
  // body keeps its listener, which ignores the rest while it drains. The first outcome wins, so plain
  // `on` listeners do (no wrapper per listener, as `once` makes; a second error is ignored, not thrown).
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  stream.on('data', (chunk: Buffer) => {
    if (size > limit) return;
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    else {
      chunks.length = 0;
      req.resume();
      if (settled) return;
      settled = true;
      done(o.tooLarge(limit));
    }
  });
  stream.on('end', () => {
    if (size > limit || settled) return;
    settled = true;
    done(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
  stream.on('error', (err: Error) => {
    if (settled) return;
    settled = true;
    done(unreadable(o, err));
  });
  if (stream !== req)
    req.on('error', (err: Error) => {
      if (settled) return;
      settled = true;
      done(unreadable(o, err));
    });
  req.on('aborted', () => {
    if (settled) return;
    settled = true;
    done(unreadable(o, undefined));
  });
}

/** The error for a body that could not be read: a stream error, or the client gone mid-body. */
function unreadable(o: ReadBodyOptions, err: Error | undefined): Error {
  const reason = err
    ? `request body could not be read: ${err.message}`
    : 'client aborted while sending the body';
  return o.broken ? o.broken(reason) : new Error(reason);
}
