import { Socket } from 'node:net';

/**
 * Called with each read of a socket: `chunk` is a view of a buffer shared by every connection,
 * valid only until the callback returns (copy what must be kept). False stops reading until
 * `socket.resume()`.
 */
export type ReadCallback = (chunk: Buffer) => boolean;

/** Where every accepted connection's reads land (one thread, one read at a time). */
const SHARED = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * Node gives `onread` (reads into a caller's buffer, handed to a callback, no readable-stream
 * bookkeeping or buffer allocation per read) only to sockets it connects, not to accepted ones.
 * An accepted socket gets the same by having the two fields `onread` sets put on it and its
 * handle told to read into the buffer, before its first read arrives: the fields are found on a
 * socket made with `onread` (Node 20's net.js reads them in onStreamRead for every socket).
 */
const fields = ((): { buffer: symbol; callback: symbol } | undefined => {
  const probe = () => true;
  // `onread` is typed on connect()'s options only; the constructor takes it too
  const s = new Socket({ onread: { buffer: SHARED, callback: probe } } as ConstructorParameters<
    typeof Socket
  >[0]);
  let buffer: symbol | undefined;
  let callback: symbol | undefined;
  const slots = s as unknown as Record<symbol, unknown>;
  for (const k of Object.getOwnPropertySymbols(s)) {
    if (slots[k] === SHARED) buffer = k;
    else if (slots[k] === probe) callback = k;
  }
  s.destroy();
  return buffer && callback ? { buffer, callback } : undefined;
})();

interface UserBufferHandle {
  useUserBuffer?(buf: Uint8Array): void;
}

/**
 * Reads an accepted socket through `onRead` (see `ReadCallback`) instead of its readable stream;
 * its 'end', 'close', pause() and resume() work as before. False when this Node cannot (the
 * caller reads 'data' events instead). Call it in the server's 'connection' listener, before
 * any read has come in.
 */
export function readInto(socket: Socket, onRead: ReadCallback): boolean {
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (!fields || !handle || typeof handle.useUserBuffer !== 'function') return false;
  const slots = socket as unknown as Record<symbol, unknown>;
  slots[fields.buffer] = SHARED;
  slots[fields.callback] = (n: number) => onRead(SHARED.subarray(0, n));
  handle.useUserBuffer(SHARED);
  return true;
}
