// Load generators for bench/collector-throughput.ts, run as child processes so they do not share
// the measured process's event loop. Each prints one line when it starts sending, then its result:
//   node --import tsx bench/collector-load.ts tcp PORT LINES
//   node --import tsx bench/collector-load.ts udp PORT RATE SECONDS
//   node --import tsx bench/collector-load.ts http PORT SECONDS BODYFILE CONTENT-TYPE [PATH]
//   node --import tsx bench/collector-load.ts syslog-tcp PORT RATE COUNT|SECONDS   (RFC 5424, octet counting)
//   node --import tsx bench/collector-load.ts syslog-udp PORT RATE SECONDS
// (bench/collector-syslog.ts): RATE 0 on TCP = as fast as the receiver reads, COUNT messages (or,
// with a trailing `s`, for that many seconds); otherwise paced at RATE for SECONDS. Every paced
// message carries `seq=N t=MS` (MS = Date.now() when sent) so a reader of the output file can
// tell its delivery latency.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import autocannon from 'autocannon';

const [mode, portArg, a, b, c] = process.argv.slice(2);
const port = Number(portArg);
const started = () => process.stdout.write('{"t":"start"}\n');

export function jsonLine(i: number): string {
  return (
    JSON.stringify({ seq: i, level: 'info', msg: 'GET /api/orders 200', user: `u${i % 1000}`, ms: i % 97 }) +
    '\n'
  );
}

export function syslogLine(i: number): string {
  return `<134>1 2026-11-24T12:00:00.000000Z host app 1234 - - request ${i} served in ${i % 97} ms`;
}

/** One RFC 5424 message (no framing); `t` is the send time in ms written into MSG. */
export function syslog5424(i: number, t: number, stamp: string): string {
  return `<134>1 ${stamp} web-1 orders 1234 ID47 - seq=${i} t=${t} GET /api/orders 200 user=u${i % 1000}`;
}

/** RFC 6587 octet counting: `LEN SP MSG` (ASCII messages, so length in characters = bytes). */
const framed = (m: string) => `${m.length} ${m}`;

/** Paces `send(n)` so that `rate × elapsed` messages have gone out, checked every millisecond. */
async function paced(
  rate: number,
  seconds: number,
  send: (from: number, to: number) => Promise<void> | void,
) {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    if (due > sent) {
      await send(sent, due);
      sent = due;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return sent;
}

if (mode === 'syslog-tcp' || mode === 'syslog-udp') {
  const rate = Number(a);
  let bytes = 0;
  let sent = 0;
  if (mode === 'syslog-udp') {
    const sock = createSocket('udp4');
    started();
    sent = await paced(rate, Number(b), (from, to) => {
      const stamp = new Date().toISOString();
      const t = Date.now();
      for (let i = from; i < to; i++) {
        const m = syslog5424(i, t, stamp);
        bytes += m.length;
        sock.send(m, port, '127.0.0.1');
      }
    });
    await new Promise((r) => setTimeout(r, 100));
    sock.close();
  } else {
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
    const write = (buf: Buffer | string) =>
      s.write(buf) ? undefined : new Promise<void>((r) => s.once('drain', () => r()));
    started();
    if (rate > 0)
      sent = await paced(rate, Number(b), (from, to) => {
        const stamp = new Date().toISOString();
        const t = Date.now();
        let out = '';
        for (let i = from; i < to; i++) out += framed(syslog5424(i, t, stamp));
        bytes += out.length;
        return write(out);
      });
    else {
      // Saturation: 4096-message slabs built once (t=0), written as fast as the receiver reads.
      const stamp = '2026-12-07T03:00:00.000000Z';
      const slabN = 4096;
      const slab = Buffer.from(
        Array.from({ length: slabN }, (_, i) => framed(syslog5424(i, 0, stamp))).join(''),
      );
      const timed = b!.endsWith('s');
      // For SECONDS: report what the receiver took by then, even if it stopped reading (a stall).
      if (timed)
        setTimeout(
          () => {
            process.stdout.write(JSON.stringify({ sent, bytes }) + '\n');
            process.exit(0);
          },
          Number(b!.slice(0, -1)) * 1000,
        );
      const slabs = timed ? Infinity : Math.ceil(Number(b) / slabN);
      for (let k = 0; k < slabs; k++) {
        await write(slab);
        sent += slabN;
        bytes += slab.length;
      }
    }
    s.end();
    await new Promise((r) => (s.destroyed ? r(null) : s.once('close', r)));
  }
  process.stdout.write(JSON.stringify({ sent, bytes }) + '\n');
} else if (mode === 'tcp') {
  const lines = Number(a);
  // Lines are built once into 1 MB slabs so the generator is not the bottleneck; two connections
  // write them honouring write() backpressure.
  const slabLines = 8192;
  const slab = Buffer.from(Array.from({ length: slabLines }, (_, i) => jsonLine(i)).join(''));
  const conns = 2;
  const perConn = Math.ceil(lines / conns / slabLines);
  started();
  await Promise.all(
    Array.from(
      { length: conns },
      () =>
        new Promise<void>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', async () => {
            for (let k = 0; k < perConn; k++)
              if (!s.write(slab)) await new Promise((r) => s.once('drain', r));
            s.end();
          });
          s.on('close', () => resolve());
          s.on('error', reject);
        }),
    ),
  );
  process.stdout.write(
    JSON.stringify({ lines: perConn * conns * slabLines, bytes: perConn * conns * slab.length }) + '\n',
  );
} else if (mode === 'udp') {
  const rate = Number(a);
  const seconds = Number(b);
  const sock = createSocket('udp4');
  const total = rate * seconds;
  const start = performance.now();
  let sent = 0;
  let bytes = 0;
  started();
  // Paced: every millisecond, catch up to rate × elapsed.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        const line = syslogLine(sent++);
        bytes += line.length;
        sock.send(line, port, '127.0.0.1');
      }
      if (sent >= total) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  await new Promise((r) => setTimeout(r, 200));
  sock.close();
  process.stdout.write(JSON.stringify({ sent, bytes, seconds: (performance.now() - start) / 1000 }) + '\n');
} else if (mode === 'http') {
  const body = readFileSync(b!);
  started();
  const r = await autocannon({
    url: `http://127.0.0.1:${port}${process.argv[7] ?? '/bench'}`,
    method: 'POST',
    headers: { 'content-type': c! },
    body,
    connections: 8,
    pipelining: 1,
    duration: Number(a),
  });
  process.stdout.write(
    JSON.stringify({
      requests: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors,
      rps: r.requests.average,
      p99: r.latency.p99,
    }) + '\n',
  );
}
