/**
 * Listener and upstream limits, one run on one machine:
 *  - compare: the gateway of this tree against the gateway of another checkout (`--before <dir>`,
 *    built) in front of the same hello instance; throughput at 64 connections and p99 at a fixed
 *    1,000 req/s, the two gateways alternating each round. Limits must cost under 3 %.
 *  - slowloris: `--slow <n>` connections (default 20,000, opened from helper processes so each
 *    stays under its file limit) each send a header byte every 2 s to the gateway; meanwhile a good
 *    client sends one request every 100 ms on a fresh connection. Reports how many good requests
 *    got 200, their p99, and how long the slow connections lived.
 *
 *   node --import tsx bench/gateway-limits.ts compare --before ../before [--duration 6] [--rounds 5]
 *   node --import tsx bench/gateway-limits.ts slowloris [--slow 20000] [--seconds 30]
 *
 * Needs built packages in both trees (`npm run -s build`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { openSlowClients } from '@sprout/http/testing';
import { percentile, root, startServer, writeResult } from './lib.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    before: { type: 'string' },
    duration: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '5' },
    slow: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '30' },
    // Internal: a helper process opening its share of slow connections.
    port: { type: 'string' },
  },
});
const node = process.execPath;
const [mode] = positionals;

/** Starts `bench/gateway-server.ts static <port>` of the tree at `dir`; resolves with its port. */
function startGateway(
  dir: string,
  instancePort: number,
): Promise<{ port: number; pid: number; stop(): void }> {
  const child = spawn(node, ['--import', 'tsx', 'bench/gateway-server.ts', 'static', String(instancePort)], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /GATEWAY (\d+)/.exec(buf);
      if (m) ok({ port: Number(m[1]), pid: child.pid!, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => fail(new Error(`gateway in ${dir} exited ${code}`)));
  });
}

async function startInstance(dir: string) {
  return startServer([
    node,
    `${dir}/packages/cli/bin/sprout.js`,
    'run',
    `${dir}/bench/fixtures/hello-ts`,
    '--target',
    'hello',
    '--host',
    '127.0.0.1',
  ]);
}

/** CPU time a process has used, µs (Linux, 100 Hz ticks). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

interface Run {
  /** Gateway CPU per request, µs: steadier than req/s when other work shares the cores. */
  cpuMicrosPerRequest: number;
  requestsPerSec: number;
  p99Ms: number;
  errors: number;
}
async function load(
  url: string,
  o: { connections: number; overallRate?: number; duration: number },
  pid: number,
): Promise<Run> {
  const cpu0 = cpuMicros(pid);
  const r = await autocannon({ url, ...o });
  return {
    cpuMicrosPerRequest: Math.round((cpuMicros(pid) - cpu0) / r.requests.total),
    requestsPerSec: Math.round(r.requests.average),
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function compare(): Promise<void> {
  if (!values.before) throw new Error('compare needs --before <dir of a built checkout>');
  const before = resolve(values.before);
  const duration = Number(values.duration);
  const rounds = Number(values.rounds);
  // One instance (of this tree: the before tree need only build its gateway) behind both gateways,
  // so only the gateway differs.
  const inst = await startInstance(root);
  const instancePort = Number(new URL(inst.url).port);
  const gws = {
    before: await startGateway(before, instancePort),
    after: await startGateway(root, instancePort),
  };
  const url = (k: 'before' | 'after') => `http://127.0.0.1:${gws[k].port}/`;
  for (const k of ['before', 'after'] as const)
    await load(url(k), { connections: 64, duration: 2 }, gws[k].pid);
  const runs = { before: [] as Run[], after: [] as Run[], beforeFixed: [] as Run[], afterFixed: [] as Run[] };
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so a trend in the machine's load hits both alike.
    const order = i % 2 ? (['after', 'before'] as const) : (['before', 'after'] as const);
    for (const k of order) runs[k].push(await load(url(k), { connections: 64, duration }, gws[k].pid));
    for (const k of order)
      runs[`${k}Fixed`].push(
        await load(url(k), { connections: 16, overallRate: 1000, duration }, gws[k].pid),
      );
  }
  const result = {
    rounds,
    durationS: duration,
    before: {
      requestsPerSec: median(runs.before.map((r) => r.requestsPerSec)),
      cpuMicrosPerRequest: median(runs.before.map((r) => r.cpuMicrosPerRequest)),
      p99MsAt1000: median(runs.beforeFixed.map((r) => r.p99Ms)),
      errors: [...runs.before, ...runs.beforeFixed].reduce((n, r) => n + r.errors, 0),
    },
    after: {
      requestsPerSec: median(runs.after.map((r) => r.requestsPerSec)),
      cpuMicrosPerRequest: median(runs.after.map((r) => r.cpuMicrosPerRequest)),
      p99MsAt1000: median(runs.afterFixed.map((r) => r.p99Ms)),
      errors: [...runs.after, ...runs.afterFixed].reduce((n, r) => n + r.errors, 0),
    },
    perRound: runs,
  };
  for (const k of ['before', 'after'] as const) {
    const r = result[k];
    console.log(
      `${k.padEnd(6)} ${r.requestsPerSec} req/s, ${r.cpuMicrosPerRequest} µs gateway CPU a request, p99 ${r.p99MsAt1000} ms at 1,000 req/s`,
    );
  }
  console.log(
    `after/before: throughput ${(result.after.requestsPerSec / result.before.requestsPerSec).toFixed(3)}, CPU a request ${(result.after.cpuMicrosPerRequest / result.before.cpuMicrosPerRequest).toFixed(3)}, p99 ${(result.after.p99MsAt1000 / result.before.p99MsAt1000).toFixed(3)}`,
  );
  writeResult('gateway-limits-compare', result);
  gws.before.stop();
  gws.after.stop();
  await inst.stop();
}

/** One good request on a fresh connection: status (0 when refused or reset) and time. */
function probe(port: number): Promise<{ status: number; ms: number }> {
  return new Promise((ok) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => ok({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('error', () => ok({ status: 0, ms: performance.now() - t0 }));
    req.setTimeout(10_000, () => req.destroy());
    req.end();
  });
}

async function slowloris(): Promise<void> {
  const total = Number(values.slow);
  const seconds = Number(values.seconds);
  const inst = await startInstance(root);
  const gw = await startGateway(root, Number(new URL(inst.url).port));
  const perHelper = 5_000;
  const helpers = Array.from({ length: Math.ceil(total / perHelper) }, (_, i) =>
    spawn(
      node,
      [
        '--import',
        'tsx',
        'bench/gateway-limits.ts',
        'clients',
        '--port',
        String(gw.port),
        '--slow',
        String(Math.min(perHelper, total - i * perHelper)),
        '--seconds',
        String(seconds),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  );
  const reports = helpers.map(
    (h) =>
      new Promise<{ opened: number; closed: number; lifetimes: number[] }>((ok) => {
        let out = '';
        h.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        h.once('exit', () => ok(JSON.parse(out.trim().split('\n').pop() ?? '{}')));
      }),
  );
  const good: { status: number; ms: number }[] = [];
  const end = Date.now() + seconds * 1_000;
  while (Date.now() < end) {
    good.push(await probe(gw.port));
    await new Promise((r) => setTimeout(r, 100));
  }
  const slow = await Promise.all(reports);
  const lifetimes = slow.flatMap((s) => s.lifetimes);
  const ok = good.filter((g) => g.status === 200);
  const result = {
    slowConnections: total,
    opened: slow.reduce((n, s) => n + s.opened, 0),
    closedByGateway: slow.reduce((n, s) => n + s.closed, 0),
    slowLifetimeP50Ms: Math.round(percentile(lifetimes, 50)),
    slowLifetimeMaxMs: Math.round(Math.max(...lifetimes)),
    goodRequests: good.length,
    good200: ok.length,
    goodP99Ms: Math.round(
      percentile(
        ok.map((g) => g.ms),
        99,
      ),
    ),
  };
  console.log(JSON.stringify(result, null, 2));
  writeResult('gateway-limits-slowloris', result);
  gw.stop();
  await inst.stop();
}

async function clients(): Promise<void> {
  const seconds = Number(values.seconds);
  const slow = await openSlowClients(Number(values.port), Number(values.slow), {
    intervalMs: 2_000,
    batch: 500,
  });
  await slow.allClosed(seconds * 1_000);
  slow.close();
  process.stdout.write(
    JSON.stringify({ opened: slow.opened, closed: slow.closed, lifetimes: slow.lifetimes.map(Math.round) }) +
      '\n',
  );
}

if (mode === 'compare') await compare();
else if (mode === 'slowloris') await slowloris();
else if (mode === 'clients') await clients();
else throw new Error('usage: gateway-limits.ts compare --before <dir> | slowloris [--slow n]');
