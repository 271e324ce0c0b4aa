import { Worker } from 'node:worker_threads';
import { CollectorError } from '../errors.js';

/**
 * The most datagram bytes the reading thread holds for the main thread (read off the socket, not
 * yet decoded). Past it datagrams are dropped there and counted (`receive_queue_full`): the main
 * thread is that far behind, and the queue must not grow without bound.
 */
const UDP_QUEUE_BYTES = 16 * 2 ** 20;

/**
 * The reading thread (CommonJS, Node built-ins only, so it runs the same from src under a loader
 * and from dist). It drains the socket as datagrams arrive and hands them over once per turn of its
 * own event loop (or every 1,024 datagrams / 1 MiB): one transferred buffer of the payloads back to
 * back, their end offsets, and with `sources` each sender's `address:port`. `queued[0]` is the
 * bytes handed over and not yet decoded; the main thread subtracts what it has decoded.
 */
const READER = `
const { parentPort, workerData: o } = require('node:worker_threads');
const dgram = require('node:dgram');
const queued = new Int32Array(o.queued);
let pending = [], bytes = 0, sources = o.sources ? [] : undefined, dropped = 0, scheduled = false;
const flush = () => {
  scheduled = false;
  if (!pending.length && !dropped) return;
  const data = Buffer.allocUnsafeSlow(bytes);
  const ends = new Array(pending.length);
  let at = 0;
  for (let i = 0; i < pending.length; i++) { at += pending[i].copy(data, at); ends[i] = at; }
  Atomics.add(queued, 0, bytes);
  parentPort.postMessage({ t: 'batch', data: data.buffer, ends, sources, dropped }, [data.buffer]);
  pending = []; bytes = 0; dropped = 0;
  if (sources) sources = [];
};
const sock = dgram.createSocket({ type: o.type, ...(o.recvBufferSize ? { recvBufferSize: o.recvBufferSize } : {}) });
sock.on('message', (m, r) => {
  if (Atomics.load(queued, 0) + bytes + m.length > o.maxQueued) dropped++;
  else {
    pending.push(m);
    bytes += m.length;
    if (sources) sources.push(r.address + ':' + r.port);
  }
  if (pending.length >= 1024 || bytes >= 1048576) flush();
  else if (!scheduled) { scheduled = true; setImmediate(flush); }
});
sock.once('error', (err) => parentPort.postMessage({ t: 'error', message: err.message }));
sock.bind(o.port, o.host, () => {
  sock.on('error', () => undefined);
  const a = sock.address();
  parentPort.postMessage({ t: 'listening', host: a.address, port: a.port });
});
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  sock.close(() => { flush(); parentPort.close(); });
});
`;

type FromReader =
  | { t: 'batch'; data: ArrayBuffer; ends: number[]; sources?: string[]; dropped: number }
  | { t: 'error'; message: string }
  | { t: 'listening'; host: string; port: number };

export interface UdpListenerOptions {
  listen: string;
  port: number;
  /** The config key a bind error names. */
  field: string;
  recvBufferSize?: number | undefined;
  /** Pass each datagram's sender (`address:port`) to `onMessage`. */
  sources?: boolean;
  /** The most bytes the reading thread holds for the main thread (UDP_QUEUE_BYTES unless set). */
  queueBytes?: number;
  /** Datagrams the reading thread dropped because the main thread was `queueBytes` behind. */
  onDropped?: (datagrams: number) => void;
}

/**
 * A UDP input's socket, read on a thread of its own so a busy main thread (parsing, formatting an
 * output) never stops the kernel's receive queue from draining: at 50k msg/s a 100 ms stall is
 * 5,000 datagrams, more than a few MB of socket buffer hold. `onMessage` gets each datagram as
 * `buf[start, end)`, a view of the batch it came in (never reused, so views may outlive the call). Binds on start
 * (coded error naming `field`), closes (the thread ends), reports its address.
 */
export function udpListener(
  o: UdpListenerOptions,
  onMessage: (buf: Buffer, start: number, end: number, source?: string) => void,
): { start(): Promise<void>; close(): Promise<void>; address(): { host: string; port: number } } {
  let worker: Worker | undefined;
  let bound = { host: o.listen, port: o.port };
  const queued = new Int32Array(new SharedArrayBuffer(4));
  const onBatch = (m: Extract<FromReader, { t: 'batch' }>) => {
    const buf = Buffer.from(m.data);
    const { ends, sources } = m;
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i]!;
      onMessage(buf, start, end, sources?.[i]);
      start = end;
    }
    Atomics.sub(queued, 0, buf.length);
    if (m.dropped) o.onDropped?.(m.dropped);
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
          maxQueued: o.queueBytes ?? UDP_QUEUE_BYTES,
          queued: queued.buffer,
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
          if (m.t === 'batch') onBatch(m);
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
      const exited = new Promise<void>((r) => w.once('exit', () => r()));
      w.postMessage('close');
      const timer = setTimeout(() => void w.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    },
    address: () => bound,
  };
}
