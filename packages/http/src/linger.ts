import type { IncomingMessage } from 'node:http';

/** Bounds of `lingerOnRefusedBody`. */
export interface LingerOptions {
  /** Bytes of the refused body read and dropped at most before the connection is cut (default 16 MiB). */
  maxBytes?: number;
  /** How long the rest of the body is read at most, ms (default 5 000). */
  maxMs?: number;
}

/**
 * Call when answering a request whose body was refused (413) before it was all read, instead of
 * `connection: close`. Closing at once makes the kernel reset the connection while the client is
 * still sending, and a reset discards the answer the client has not read yet: a proxy in front
 * then sees a broken connection and answers 502. This reads and drops the rest of the body so the
 * answer arrives, and cuts the connection only when the body goes on past `maxBytes` or `maxMs`
 * (nginx's lingering close). The connection stays usable when the body ends within the bounds.
 */
export function lingerOnRefusedBody(req: IncomingMessage, o: LingerOptions = {}): void {
  if (req.complete || req.destroyed) return;
  const maxBytes = o.maxBytes ?? 16 * 1024 * 1024;
  let read = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, o.maxMs ?? 5_000);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > maxBytes) cut();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}
