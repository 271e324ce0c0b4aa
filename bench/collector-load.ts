// Load generators for bench/collector-throughput.ts, run as child processes so they do not share
// the measured process's event loop. Each prints one line when it starts sending, then its result:
//   node --import tsx bench/collector-load.ts tcp PORT LINES
//   node --import tsx bench/collector-load.ts udp PORT RATE SECONDS
//   node --import tsx bench/collector-load.ts http PORT SECONDS BODYFILE CONTENT-TYPE [PATH]
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

if (mode === 'tcp') {
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
