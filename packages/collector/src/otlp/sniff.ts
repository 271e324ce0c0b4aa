import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** How long an HTTP/2 connection may stay open after its peer half-closed it (responses in flight). */
const HALF_CLOSED_GRACE_MS = 2000;

/** What every HTTP/2 client sends first (RFC 9113 §3.4); over cleartext with prior knowledge, h2c. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface SniffOptions {
  /** Milliseconds a connection may take to show which protocol it speaks; then it is closed. */
  timeoutMs: number;
  /** The connection does not start with the preface: an HTTP/1.x client. The socket is handed over as is. */
  http1(socket: Socket): void;
  /** The connection started with the full preface: HTTP/2. Handed over as a stream that replays it. */
  http2(stream: Duplex): void;
  /** A connection that ended or timed out in the middle of the preface. */
  reject(reason: string, detail: Record<string, unknown>): void;
}

/**
 * Decides a fresh connection's protocol from its first bytes. A connection whose bytes so far are a
 * prefix of the HTTP/2 preface waits for more (up to `timeoutMs` after it opened); the first byte that
 * differs makes it HTTP/1 (the HTTP/1 server then answers or rejects it), all 24 bytes make it HTTP/2.
 * Nothing is buffered beyond the 24 bytes: the decision comes at the preface's last byte at the latest.
 */
export function sniffConnection(socket: Socket, o: SniffOptions): void {
  let got: Buffer | undefined;
  let decided = false;
  const finish = () => {
    decided = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    socket.off('error', onError);
  };
  const onData = (chunk: Buffer) => {
    got = got ? Buffer.concat([got, chunk]) : chunk;
    const n = Math.min(got.length, H2_PREFACE.length);
    if (got.compare(H2_PREFACE, 0, n, 0, n) !== 0) {
      finish();
      // Give the bytes back and let the HTTP/1 server read from the socket itself (fast path kept).
      socket.pause();
      socket.unshift(got);
      o.http1(socket);
      socket.resume();
    } else if (got.length >= H2_PREFACE.length) {
      finish();
      socket.pause();
      o.http2(replay(socket, got));
    }
  };
  const onError = () => socket.destroy();
  const onEnd = () => {
    if (decided) return;
    finish();
    if (got?.length)
      o.reject('truncated', { bytes: got.length, error: 'connection ended inside the HTTP/2 preface' });
    socket.destroy();
  };
  const timer = setTimeout(() => {
    if (decided) return;
    finish();
    if (got?.length)
      o.reject('truncated', { bytes: got.length, error: 'HTTP/2 preface not completed in time' });
    socket.destroy();
  }, o.timeoutMs);
  timer.unref();
  socket.on('error', onError);
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
}

/**
 * A duplex stream over `socket` that first yields `first` (bytes already read from it). node:http2
 * reads a net.Socket from its native handle and would miss bytes put back with unshift, so an HTTP/2
 * connection goes through this stream instead.
 */
function replay(socket: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (socket.destroyed) return cb(new Error('socket closed'));
      socket.write(chunk, (err) => cb(err ?? null));
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  d.push(first);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => {
    d.push(null);
    // The peer sent FIN: no frame can arrive any more. A session waiting for the rest of a frame
    // would hold the connection for ever, so what is still open after a short grace is closed.
    setTimeout(() => d.destroy(), HALF_CLOSED_GRACE_MS).unref();
  });
  socket.on('error', (err) => d.destroy(err));
  socket.on('close', () => d.destroy());
  return d;
}
