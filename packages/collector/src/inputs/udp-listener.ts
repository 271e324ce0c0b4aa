import { Worker } from 'node:worker_threads';
import { CollectorError } from '../errors.js';

/**
 * The size of the ring the reading thread writes datagrams into for the main thread (read off the
 * socket, not yet decoded, with a few bytes of framing each). A datagram that does not fit is
 * dropped there and counted (`receive_queue_full`): the main thread is that far behind, and the
 * queue must not grow without bound.
 */
const UDP_QUEUE_BYTES = 16 * 2 ** 20;

/** Slots of the shared control array: bytes in the ring, datagrams dropped, a wake-up pending. */
const USED = 0;
const DROPPED = 1;
const WOKEN = 2;

/**
 * The reading thread (CommonJS, Node built-ins only, so it runs the same from src under a loader
 * and from dist). It copies each datagram into the shared ring as it arrives: an Int32 payload
 * length (-1: the rest of the ring is skipped, go to its start), with `sources` the sender's
 * address (length byte, latin1) and port (u16), then the payload, padded to 4 bytes. No object of
 * its own per datagram and no message per batch: it wakes the main thread at most once per turn of
 * its event loop, and only when no wake-up is pending (`ctl[WOKEN]`).
 */
const READER = `
const { parentPort, workerData: o } = require('node:worker_threads');
const dgram = require('node:dgram');
const ctl = new Int32Array(o.ctl);
const cap = o.ring.byteLength;
const ring = Buffer.from(o.ring);
const i32 = new Int32Array(o.ring);
let w = 0, scheduled = false;
const wake = () => {
  scheduled = false;
  if (Atomics.compareExchange(ctl, 2, 0, 1) === 0) parentPort.postMessage(0);
};
const sock = dgram.createSocket({ type: o.type, ...(o.recvBufferSize ? { recvBufferSize: o.recvBufferSize } : {}) });
sock.on('message', (m, r) => {
  const n = m.length;
  const head = o.sources ? 7 + r.address.length : 4;
  const need = (head + n + 3) & ~3;
  const skip = cap - w < need ? cap - w : 0;
  if (need > cap || Atomics.load(ctl, 0) + skip + need > cap) Atomics.add(ctl, 1, 1);
  else {
    if (skip) { i32[w >> 2] = -1; w = 0; }
    i32[w >> 2] = n;
    if (o.sources) {
      ring[w + 4] = r.address.length;
      ring.latin1Write(r.address, w + 5);
      ring.writeUInt16LE(r.port, head - 2 + w);
    }
    m.copy(ring, w + head);
    w += need;
    if (w === cap) w = 0;
    Atomics.add(ctl, 0, skip + need);
  }
  if (!scheduled) { scheduled = true; setImmediate(wake); }
});
sock.once('error', (err) => parentPort.postMessage({ t: 'error', message: err.message }));
sock.bind(o.port, o.host, () => {
  sock.on('error', () => undefined);
  const a = sock.address();
  parentPort.postMessage({ t: 'listening', host: a.address, port: a.port });
});
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  sock.close(() => parentPort.close());
});
`;

type FromReader = 0 | { t: 'error'; message: string } | { t: 'listening'; host: string; port: number };

export interface UdpListenerOptions {
  listen: string;
  port: number;
  /** The config key a bind error names. */
  field: string;
  recvBufferSize?: number | undefined;
  /** Pass each datagram's sender (`address:port`) to `onMessage`. */
  sources?: boolean;
  /** The ring's size in bytes: the most the reading thread holds for the main thread (UDP_QUEUE_BYTES unless set). */
  queueBytes?: number;
  /** Datagrams the reading thread dropped because the main thread was `queueBytes` behind. */
  onDropped?: (datagrams: number) => void;
}

/**
 * A UDP input's socket, read on a thread of its own so a busy main thread (parsing, formatting an
 * output) never stops the kernel's receive queue from draining: at 50k msg/s a 100 ms stall is
 * 5,000 datagrams, more than a few MB of socket buffer hold. The thread writes datagrams into a
 * ring shared with the main thread, which reads them in place: `onMessage` gets each datagram as
 * `buf[start, end)` of the ring, valid only during the call (the bytes are overwritten later;
 * decode or copy them). Binds on start (coded error naming `field`), closes (the thread ends, what
 * it wrote is still delivered), reports its address.
 */
export function udpListener(
  o: UdpListenerOptions,
  onMessage: (buf: Buffer, start: number, end: number, source?: string) => void,
): { start(): Promise<void>; close(): Promise<void>; address(): { host: string; port: number } } {
  let worker: Worker | undefined;
  let bound = { host: o.listen, port: o.port };
  const ctl = new Int32Array(new SharedArrayBuffer(12));
  const sab = new SharedArrayBuffer(Math.floor((o.queueBytes ?? UDP_QUEUE_BYTES) / 4) * 4);
  const ring = Buffer.from(sab);
  const i32 = new Int32Array(sab);
  const cap = sab.byteLength;
  let r = 0;
  const drain = () => {
    Atomics.store(ctl, WOKEN, 0);
    // What the thread wrote before this load is complete; later datagrams bring a new wake-up.
    const avail = Atomics.load(ctl, USED);
    let done = 0;
    try {
      while (done < avail) {
        const n = i32[r >> 2]!;
        if (n < 0) {
          done += cap - r;
          r = 0;
          continue;
        }
        let at = r + 4;
        let source: string | undefined;
        if (o.sources) {
          const len = ring[at]!;
          source = `${ring.toString('latin1', at + 1, at + 1 + len)}:${ring.readUInt16LE(at + 1 + len)}`;
          at += 3 + len;
        }
        const need = (at - r + n + 3) & ~3;
        // Counted before the call: a throwing onMessage must not make the datagram come again.
        done += need;
        r += need;
        if (r === cap) r = 0;
        onMessage(ring, at, at + n, source);
      }
    } finally {
      Atomics.sub(ctl, USED, done);
      const dropped = Atomics.exchange(ctl, DROPPED, 0);
      if (dropped) o.onDropped?.(dropped);
    }
  };
  return {
    async start() {
      const w = new Worker(READER, {
        eval: true,
        execArgv: [],
        workerData: {
          type: o.listen.includes(':') ? 'udp6' : 'udp4',
          host: o.listen,
          port: o.port,
          recvBufferSize: o.recvBufferSize,
          sources: o.sources ?? false,
          ring: sab,
          ctl: ctl.buffer,
        },
      });
      worker = w;
      await new Promise<void>((resolve, reject) => {
        const fail = (why: string) => {
          void w.terminate();
          reject(
            new CollectorError(
              'SPROUT_ERR_COLLECTOR_LISTEN',
              `cannot bind udp ${o.listen}:${o.port}: ${why}`,
              o.field,
            ),
          );
        };
        w.on('message', (m: FromReader) => {
          if (m === 0) drain();
          else if (m.t === 'listening') {
            bound = { host: m.host, port: m.port };
            resolve();
          } else fail(m.message);
        });
        // Settles nothing once listening; a thread that fails later only stops this input.
        w.once('error', (err) => fail(err.message));
        w.once('exit', (code) => fail(`reader thread exited (${code})`));
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (!w) return;
      const exited = new Promise<void>((res) => w.once('exit', () => res()));
      w.postMessage('close');
      const timer = setTimeout(() => void w.terminate(), 2000);
      await exited;
      clearTimeout(timer);
      drain();
    },
    address: () => bound,
  };
}
