/**
 * An open-loop load generator: GET requests sent at a fixed rate, evenly spaced, each timed from
 * the moment it went out to the last byte of its response, at microsecond resolution.
 *
 * Why not autocannon's `overallRate`: autocannon lets each connection send its quota for the
 * second back to back as soon as the second starts (`reqsMadeThisSecond`), so "1,000 req/s over
 * 16 connections" is a burst of 1,000 requests at 16 in flight once a second, then silence; and it
 * records latencies in whole milliseconds, corrected with an expected interval of 1 ms. That
 * measures a burst's queue, not the latency at a steady rate.
 *
 * A request goes out on an idle keep-alive connection; when every connection is busy a new one is
 * opened (up to `maxConnections`), so a slow answer never delays the requests after it (no
 * coordinated omission). The sender wakes every millisecond and sends what is due; how late it
 * sent (its own scheduling) is reported apart.
 *
 *   const r = await pacedLoad({ port, rate: 1000, durationMs: 6000 });
 */
import { connect, type Socket } from 'node:net';
import { percentile } from './lib.js';

export interface PacedResult {
  sent: number;
  answered: number;
  /** Requests without an answer (failed or not answered within 5 s of the end). */
  errors: number;
  /** Latency percentiles, ms (three decimals). */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** How late the sender sent, p99, ms: its own scheduling, not the server's. */
  sendLateP99Ms: number;
  connections: number;
}

interface Conn {
  socket: Socket;
  busy: boolean;
  sentAt: number;
  buf: Buffer;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** What a browser sends with a page request besides Host (Chrome 120 on Linux). */
export const BROWSER_FIELDS: Record<string, string> = {
  'user-agent':
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-language': 'en-US,en;q=0.9',
  'accept-encoding': 'gzip, deflate, br',
  'upgrade-insecure-requests': '1',
  'sec-fetch-dest': 'document',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'none',
  'sec-fetch-user': '?1',
  'cache-control': 'max-age=0',
  priority: 'u=0, i',
  cookie: 'session=abcdef0123456789; theme=dark',
};

export async function pacedLoad(opts: {
  port: number;
  rate: number;
  durationMs: number;
  path?: string;
  maxConnections?: number;
  /** Fields sent after Host with each request. */
  headers?: Readonly<Record<string, string>>;
}): Promise<PacedResult> {
  const { port, rate, durationMs } = opts;
  const maxConnections = opts.maxConnections ?? 256;
  let fields = '';
  for (const [k, v] of Object.entries(opts.headers ?? {})) fields += `${k}: ${v}\r\n`;
  const request = Buffer.from(
    `GET ${opts.path ?? '/'} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${fields}\r\n`,
    'latin1',
  );
  const idle: Conn[] = [];
  const all = new Set<Conn>();
  const latencies: number[] = [];
  const late: number[] = [];
  let sent = 0;
  let errors = 0;

  /** Reads responses framed by Content-Length (the benchmark's functions send one). */
  const onData = (c: Conn, chunk: Buffer) => {
    c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
    const end = c.buf.indexOf(HEAD_END);
    if (end < 0) return;
    const head = c.buf.toString('latin1', 0, end);
    const m = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
    if (!m) throw new Error('paced load: a response without Content-Length (chunked is not read here)');
    const size = end + 4 + Number(m[1]);
    if (c.buf.length < size) return;
    if (c.buf.length > size) throw new Error('paced load: bytes after a response (nothing was pipelined)');
    latencies.push(performance.now() - c.sentAt);
    c.buf = Buffer.alloc(0);
    c.busy = false;
    // a server ending the connection (nginx after keepalive_requests) gets no more requests on it
    if (/\r\nconnection:[ \t]*close/i.test(head)) c.socket.destroy();
    else idle.push(c);
  };

  const open = () =>
    new Promise<Conn>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      const c: Conn = { socket, busy: false, sentAt: 0, buf: Buffer.alloc(0) };
      socket.once('connect', () => {
        all.add(c);
        resolve(c);
      });
      socket.on('data', (d: Buffer) => onData(c, d));
      socket.on('error', (err) => {
        if (!all.has(c)) reject(err);
      });
      socket.on('close', () => {
        if (c.busy) errors++;
        all.delete(c);
        const i = idle.indexOf(c);
        if (i >= 0) idle.splice(i, 1);
      });
    });

  // connections for the expected concurrency, opened before the clock starts
  for (let i = 0; i < 8; i++) idle.push(await open());
  const interval = 1000 / rate;
  const t0 = performance.now();
  let opening = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(Math.floor((now - t0) / interval) + 1, Math.floor(durationMs / interval));
      while (sent < due) {
        const c = idle.pop();
        if (!c) {
          // every connection busy: one more (this request waits for it, as a client would)
          if (all.size + opening < maxConnections) {
            opening++;
            void open().then(
              (n) => {
                opening--;
                idle.push(n);
              },
              () => {
                opening--;
                errors++;
              },
            );
          }
          break;
        }
        late.push(now - (t0 + sent * interval));
        c.busy = true;
        c.sentAt = performance.now();
        c.socket.write(request);
        sent++;
      }
      if (now - t0 < durationMs) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  // the last answers
  const deadline = performance.now() + 5000;
  while (latencies.length + errors < sent && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  const connections = all.size;
  for (const c of all) c.socket.destroy();
  const ms = (v: number) => +v.toFixed(3);
  return {
    sent,
    answered: latencies.length,
    errors: sent - latencies.length,
    p50Ms: ms(percentile(latencies, 50)),
    p90Ms: ms(percentile(latencies, 90)),
    p99Ms: ms(percentile(latencies, 99)),
    p999Ms: ms(percentile(latencies, 99.9)),
    maxMs: ms(Math.max(...latencies)),
    sendLateP99Ms: ms(percentile(late, 99)),
    connections,
  };
}
