/**
 * Gateway benchmark, one run on one machine (gateway, function and load generator share the cores):
 *  1. hello function (Sprout framework, TypeScript) direct, through nginx (the peer: Debian's nginx
 *     as a reverse proxy, one worker, keepalive upstream pool), through the gateway and through the
 *     floor of a Node proxy (bench/node-pipe-proxy.ts: bytes piped, nothing parsed), 64 connections;
 *  2. the same at a steady 1,000 req/s, open loop (bench/paced-load.ts): the latency percentiles;
 *  3. cold start through the gateway, request sent at zero replicas to first byte (20 runs);
 *  4. soak: load rises and falls so the function scales 0→N→0 several times; every request counted.
 *
 *   node --import tsx bench/gateway.ts [--duration 6] [--rounds 3] [--cold-runs 20] [--cycles 3]
 *     [--throughput-only] [--gateway-args '<json options for createGateway>'] [--headers browser]
 *
 * `--headers browser`: every request of parts 1 and 2 carries the twelve fields a browser sends
 * with a page request (User-Agent, Accept…, Sec-Fetch-…, a Cookie) after Host, instead of Host
 * alone; with --throughput-only the results go to bench/results/gateway-vs-nginx-browser.json.
 *
 * Needs built packages (`npx tsc -b packages/gateway packages/cli`).
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cpuMicros, startGateway, startNginx, startPipe } from './gateway-procs.js';
import { percentile, root, startServer, writeResult } from './lib.js';
import { BROWSER_FIELDS, pacedLoad, type PacedResult } from './paced-load.js';
import { health, runSoak, sleep } from './gateway-soak.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '6' },
    'cold-runs': { type: 'string', default: '20' },
    cycles: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    'throughput-only': { type: 'boolean', default: false },
    'gateway-args': { type: 'string', default: '{}' },
    headers: { type: 'string', default: 'none' },
    'gateway-b': { type: 'string' },
  },
});
const gatewayArgs = values['gateway-args'];
/** A second gateway with other options, measured in the same rounds (A/B of gateway options). */
const gatewayB = values['gateway-b'];
const duration = Number(values.duration);
if (values.headers !== 'none' && values.headers !== 'browser') throw new Error('--headers: none or browser');
const headers = values.headers === 'browser' ? BROWSER_FIELDS : {};
const coldRuns = Number(values['cold-runs']);
const cycles = Number(values.cycles);
const rounds = Number(values.rounds);
const node = process.execPath;
const loadAverageAtStart = loadavg();
const fnDir = 'bench/fixtures/hello-ts';
const sproutRun = [
  node,
  `${root}packages/cli/bin/sprout.js`,
  'run',
  `${root}${fnDir}`,
  '--target',
  'hello',
  '--host',
  '127.0.0.1',
];

interface Load {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

async function load(
  url: string,
  opts: { connections: number; overallRate?: number; duration: number },
  pids: number[] = [],
): Promise<Load & { cpuMicrosPerRequest: number[] }> {
  const before = pids.map(cpuMicros);
  const r = await autocannon({ url, headers, ...opts });
  const after = pids.map(cpuMicros);
  return {
    cpuMicrosPerRequest: pids.map((_, i) => Math.round((after[i]! - before[i]!) / r.requests.total)),
    requestsPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

function show(name: string, l: Load): void {
  console.log(
    `${name.padEnd(22)} ${String(l.requestsPerSec).padStart(6)} req/s  p50 ${l.p50Ms} ms  p99 ${l.p99Ms} ms  errors ${l.errors} non-2xx ${l.non2xx}`,
  );
}

function showSteady(name: string, r: PacedResult): void {
  console.log(
    `${`${name} (1,000 req/s)`.padEnd(22)} p50 ${r.p50Ms} ms  p90 ${r.p90Ms} ms  p99 ${r.p99Ms} ms  p99.9 ${r.p999Ms} ms  max ${r.maxMs} ms  errors ${r.errors}  (sender late p99 ${r.sendLateP99Ms} ms)`,
  );
}

/** Time from sending a request to its first response byte, and the cold-start header. */
function firstByte(port: number): Promise<{ ms: number; cold: string | undefined; status: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      const ms = performance.now() - t0;
      res.resume();
      res.on('end', () =>
        resolve({ ms, cold: res.headers['x-sprout-cold-start'] as string, status: res.statusCode! }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

// 1 + 2: direct vs gateway
console.log(
  `throughput: autocannon 64 connections; a steady 1,000 req/s, open loop (bench/paced-load.ts); ${duration} s a run, ${rounds} alternating rounds`,
);
const direct = await startServer(sproutRun);
const directPort = Number(new URL(direct.url).port);
const gw = await startGateway(['static', String(directPort)], gatewayArgs);
const gwUrl = `http://127.0.0.1:${gw.port}/`;
const gwB = gatewayB ? await startGateway(['static', String(directPort)], gatewayB) : undefined;
const gwBUrl = gwB && `http://127.0.0.1:${gwB.port}/`;
const nginx = await startNginx(directPort);
const nginxUrl = `http://127.0.0.1:${nginx.port}/`;
const pipe = await startPipe(directPort);
const pipeUrl = `http://127.0.0.1:${pipe.port}/`;
await load(direct.url, { connections: 64, duration: 2 }); // warm-up
await load(nginxUrl, { connections: 64, duration: 2 });
await load(gwUrl, { connections: 64, duration: 2 });
await load(pipeUrl, { connections: 64, duration: 2 });
if (gwBUrl) await load(gwBUrl, { connections: 64, duration: 2 });
const fnPid = direct.child.pid!;
type Measured = Load & { cpuMicrosPerRequest: number[] };
/** The run with the median of `key` among `rounds`. */
const median = <T extends Record<K, number>, K extends string>(runs: T[], key: K): T =>
  [...runs].sort((a, b) => a[key] - b[key])[Math.floor(runs.length / 2)]!;
/** A steady 1,000 req/s for `duration` s, open loop, to `port`. */
const steady = (port: number) => pacedLoad({ port, rate: 1000, durationMs: duration * 1000, headers });
// Direct and gateway runs alternate, so a swing in the machine's load hits both alike.
const runs = {
  direct: [] as Measured[],
  nginx: [] as Measured[],
  gateway: [] as Measured[],
  pipe: [] as Measured[],
  directFixed: [] as PacedResult[],
  nginxFixed: [] as PacedResult[],
  gatewayFixed: [] as PacedResult[],
  gatewayB: [] as Measured[],
  gatewayBFixed: [] as PacedResult[],
};
for (let i = 0; i < rounds; i++) {
  runs.direct.push(await load(direct.url, { connections: 64, duration }, [fnPid]));
  runs.nginx.push(await load(nginxUrl, { connections: 64, duration }, [fnPid, nginx.pid]));
  runs.gateway.push(await load(gwUrl, { connections: 64, duration }, [fnPid, gw.pid]));
  runs.pipe.push(await load(pipeUrl, { connections: 64, duration }, [fnPid, pipe.pid]));
  if (gwBUrl) runs.gatewayB.push(await load(gwBUrl, { connections: 64, duration }, [fnPid, gwB.pid]));
  runs.directFixed.push(await steady(directPort));
  runs.nginxFixed.push(await steady(nginx.port));
  runs.gatewayFixed.push(await steady(gw.port));
  if (gwB) runs.gatewayBFixed.push(await steady(gwB.port));
}
const uncapped = {
  direct: median(runs.direct, 'requestsPerSec'),
  nginx: median(runs.nginx, 'requestsPerSec'),
  gateway: median(runs.gateway, 'requestsPerSec'),
  pipe: median(runs.pipe, 'requestsPerSec'),
};
show('direct (64 conn)', uncapped.direct);
show('nginx (64 conn)', uncapped.nginx);
show('gateway (64 conn)', uncapped.gateway);
show('node pipe (64 conn)', uncapped.pipe);
console.log(
  `CPU per request, node pipe (bench/node-pipe-proxy.ts, the floor of a Node proxy): ${uncapped.pipe.cpuMicrosPerRequest[1]} µs`,
);
console.log(
  `CPU per request behind nginx: function ${uncapped.nginx.cpuMicrosPerRequest[0]} µs; nginx ${uncapped.nginx.cpuMicrosPerRequest[1]} µs`,
);
console.log(
  `CPU per request: function ${uncapped.direct.cpuMicrosPerRequest[0]} µs direct, ${uncapped.gateway.cpuMicrosPerRequest[0]} µs behind the gateway; gateway ${uncapped.gateway.cpuMicrosPerRequest[1]} µs`,
);
const roundRatios = runs.gateway.map(
  (g, i) => +(g.requestsPerSec / runs.direct[i]!.requestsPerSec).toFixed(2),
);
console.log(`gateway/direct throughput per round: ${roundRatios.join(', ')}`);
const nginxRatios = runs.gateway.map(
  (g, i) => +(g.requestsPerSec / runs.nginx[i]!.requestsPerSec).toFixed(2),
);
const nginxDirectRatios = runs.nginx.map(
  (n, i) => +(n.requestsPerSec / runs.direct[i]!.requestsPerSec).toFixed(2),
);
console.log(`gateway/nginx throughput per round: ${nginxRatios.join(', ')}`);
console.log(`nginx/direct throughput per round: ${nginxDirectRatios.join(', ')}`);
const pipeRatios = runs.pipe.map((p, i) => +(p.requestsPerSec / runs.nginx[i]!.requestsPerSec).toFixed(2));
const gatewayPipeRatios = runs.gateway.map(
  (g, i) => +(g.requestsPerSec / runs.pipe[i]!.requestsPerSec).toFixed(2),
);
console.log(`node pipe/nginx throughput per round: ${pipeRatios.join(', ')}`);
console.log(`gateway/node pipe throughput per round: ${gatewayPipeRatios.join(', ')}`);
const bRatios = runs.gatewayB.map((b, i) => ({
  vsNginx: +(b.requestsPerSec / runs.nginx[i]!.requestsPerSec).toFixed(2),
  vsGateway: +(b.requestsPerSec / runs.gateway[i]!.requestsPerSec).toFixed(2),
  cpuVsGateway: +(b.cpuMicrosPerRequest[1]! / runs.gateway[i]!.cpuMicrosPerRequest[1]!).toFixed(2),
}));
if (gwB) {
  show('gateway B (64 conn)', median(runs.gatewayB, 'requestsPerSec'));
  showSteady('gateway B', median(runs.gatewayBFixed, 'p99Ms'));
  console.log(`gateway B (${gatewayB}) per round:`, bRatios);
  console.log(
    `CPU per request, median of rounds: nginx ${percentile(
      runs.nginx.map((r) => r.cpuMicrosPerRequest[1]!),
      50,
    )} µs; gateway ${percentile(
      runs.gateway.map((r) => r.cpuMicrosPerRequest[1]!),
      50,
    )} µs; gateway B ${percentile(
      runs.gatewayB.map((r) => r.cpuMicrosPerRequest[1]!),
      50,
    )} µs`,
  );
}
const fixed = {
  direct: median(runs.directFixed, 'p99Ms'),
  nginx: median(runs.nginxFixed, 'p99Ms'),
  gateway: median(runs.gatewayFixed, 'p99Ms'),
};
showSteady('direct', fixed.direct);
showSteady('nginx', fixed.nginx);
showSteady('gateway', fixed.gateway);
console.log(
  `steady 1,000 req/s, p99 per round (ms): nginx ${runs.nginxFixed.map((r) => r.p99Ms).join(', ')}; gateway ${runs.gatewayFixed.map((r) => r.p99Ms).join(', ')}`,
);
/** One connection, requests one after another: latency without queueing in the load generator. */
async function sequential(port: number, n: number): Promise<{ p50Ms: number; p99Ms: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end();
    });
    ts.push(performance.now() - t0);
  }
  agent.destroy();
  return { p50Ms: +percentile(ts, 50).toFixed(3), p99Ms: +percentile(ts, 99).toFixed(3) };
}
const seqRuns = {
  direct: [] as { p50Ms: number; p99Ms: number }[],
  nginx: [] as { p50Ms: number; p99Ms: number }[],
  gateway: [] as { p50Ms: number; p99Ms: number }[],
};
for (let i = 0; i < rounds; i++) {
  seqRuns.direct.push(await sequential(directPort, 3000));
  seqRuns.nginx.push(await sequential(nginx.port, 3000));
  seqRuns.gateway.push(await sequential(gw.port, 3000));
}
const seqMedian = (xs: { p50Ms: number; p99Ms: number }[]) =>
  [...xs].sort((a, b) => a.p99Ms - b.p99Ms)[Math.floor(xs.length / 2)]!;
const seq = {
  direct: seqMedian(seqRuns.direct),
  nginx: seqMedian(seqRuns.nginx),
  gateway: seqMedian(seqRuns.gateway),
};
console.log(
  `sequential, one connection (3,000 requests, median of ${rounds}): direct p50 ${seq.direct.p50Ms} ms p99 ${seq.direct.p99Ms} ms; nginx p50 ${seq.nginx.p50Ms} ms p99 ${seq.nginx.p99Ms} ms; gateway p50 ${seq.gateway.p50Ms} ms p99 ${seq.gateway.p99Ms} ms`,
);
await gw.stop();
await gwB?.stop();
await nginx.stop();
pipe.stop();
await direct.stop();
const vsNginx = {
  /** Median over rounds of gateway/nginx in the same round (the runs alternate). */
  throughput: percentile(nginxRatios, 50),
  nginxVsDirect: percentile(nginxDirectRatios, 50),
  /** The floor of a Node proxy against nginx, and the gateway against that floor. */
  pipeVsNginx: percentile(pipeRatios, 50),
  gatewayVsPipe: percentile(gatewayPipeRatios, 50),
  p99At64ConnMs: { nginx: uncapped.nginx.p99Ms, gateway: uncapped.gateway.p99Ms },
  p99At1000Ms: { nginx: fixed.nginx.p99Ms, gateway: fixed.gateway.p99Ms },
  /** The proxy process's CPU time a request, µs, median of rounds (less load-sensitive than req/s). */
  cpuMicrosPerRequest: {
    nginx: percentile(
      runs.nginx.map((r) => r.cpuMicrosPerRequest[1]!),
      50,
    ),
    gateway: percentile(
      runs.gateway.map((r) => r.cpuMicrosPerRequest[1]!),
      50,
    ),
    pipe: percentile(
      runs.pipe.map((r) => r.cpuMicrosPerRequest[1]!),
      50,
    ),
  },
};
console.log('vs nginx', vsNginx, '(target: throughput ≥ 0.9x nginx, p99 ≤ nginx)');
/** The throughput part of the results (all the run has with --throughput-only). */
const throughputResult = () => ({
  date: new Date().toISOString(),
  node: process.version,
  loadAverageAtStart,
  loadAverageAtEnd: loadavg(),
  gatewayOptions: JSON.parse(gatewayArgs) as unknown,
  gatewayBOptions: gatewayB ? (JSON.parse(gatewayB) as unknown) : undefined,
  requestFields: values.headers === 'browser' ? { host: '…', ...BROWSER_FIELDS } : 'Host only',
  duration,
  rounds,
  runs,
  roundRatios,
  nginxRatios,
  nginxDirectRatios,
  bRatios,
  uncapped,
  fixed,
  sequential: { ...seq, runs: seqRuns },
  vsNginx,
});
if (values['throughput-only']) {
  writeResult(
    values.headers === 'browser' ? 'gateway-vs-nginx-browser' : 'gateway-vs-nginx',
    throughputResult(),
  );
  process.exit(0);
}

// 3: cold starts through the gateway
console.log(`cold start through the gateway: ${coldRuns} runs, request sent at zero replicas → first byte`);
const coldGw = await startGateway(
  ['spawn', fnDir, JSON.stringify({ minReplicas: 0, maxReplicas: 1, scaledownPeriodMs: 200 })],
  gatewayArgs,
);
const coldMs: number[] = [];
const peerMs: number[] = [];
for (let i = 0; i < coldRuns; i++) {
  for (;;) {
    const h = await health(coldGw.admin);
    if (h.readyInstances === 0 && h.desiredReplicas === 0) break;
    await sleep(50);
  }
  await sleep(300); // let the drained process exit fully
  const r = await firstByte(coldGw.port);
  if (r.status !== 200 || r.cold !== 'true')
    throw new Error(`cold run ${i}: status ${r.status} cold ${r.cold}`);
  coldMs.push(Math.round(r.ms));
  // the peer, interleaved: the same function spawned directly, spawn → first 200 (polled every 2 ms)
  const s = await startServer(sproutRun);
  peerMs.push(Math.round(s.coldStartMs));
  await s.stop();
}
await coldGw.stop();
const cold = {
  medianMs: percentile(coldMs, 50),
  p99Ms: percentile(coldMs, 99),
  runs: coldMs,
  directSpawnMedianMs: percentile(peerMs, 50),
  directSpawnP99Ms: percentile(peerMs, 99),
  directSpawnRuns: peerMs,
};
console.log(
  `cold start through the gateway: median ${cold.medianMs} ms  p99 ${cold.p99Ms} ms; the function spawned directly: median ${cold.directSpawnMedianMs} ms  p99 ${cold.directSpawnP99Ms} ms`,
);

// 4: soak
const soakRun = await runSoak(cycles, (policy) =>
  startGateway(['spawn', fnDir, JSON.stringify(policy)], gatewayArgs),
);

const ratios = {
  /** Median over rounds of gateway/direct in the same round (the runs alternate). */
  throughputVsDirect: percentile(roundRatios, 50),
  p99AddedAt1000Ms: +(fixed.gateway.p99Ms - fixed.direct.p99Ms).toFixed(2),
  p50AddedAt1000Ms: +(fixed.gateway.p50Ms - fixed.direct.p50Ms).toFixed(2),
  p50AddedSequentialMs: +(seq.gateway.p50Ms - seq.direct.p50Ms).toFixed(3),
  p99AddedSequentialMs: +(seq.gateway.p99Ms - seq.direct.p99Ms).toFixed(3),
  p50AddedAt64ConnMs: +(uncapped.gateway.p50Ms - uncapped.direct.p50Ms).toFixed(2),
  coldVsDirectSpawn: +(cold.medianMs / cold.directSpawnMedianMs).toFixed(2),
  gatewayCpuVsFunctionCpu: +(
    uncapped.gateway.cpuMicrosPerRequest[1]! / uncapped.direct.cpuMicrosPerRequest[0]!
  ).toFixed(2),
};
console.log(
  'ratios',
  ratios,
  '(targets: throughput ≥ 0.5x direct and ≥ 3,000 req/s; p99 added ≤ 2 ms; cold median ≤ 300 ms; soak 0 failed)',
);
writeResult('gateway', {
  ...throughputResult(),
  cold,
  soak: soakRun,
  ratios,
});
