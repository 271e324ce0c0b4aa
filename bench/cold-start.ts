/**
 * Cold start to first byte for a TypeScript function with two dependencies (bench/fixtures/cold-ts:
 * `cookie` and `uuid`), one run on one machine, interleaved rounds:
 *  - `sprout dev`: the function at zero, one request through the gateway, time to the response head;
 *    each start's breakdown from the platform's `cold-start` event (request → scale decision →
 *    hand-off → module load (TypeScript cache hits and misses) → listen → ready → first byte);
 *  - peer `sprout run`: the same function started by hand, spawn to first byte;
 *  - peer Google's Functions Framework: the same function in JavaScript (GFF runs no TypeScript),
 *    spawn to first byte.
 * The TypeScript compile cache starts empty (its own directory), so the first start after
 * `sprout dev` starts is the one a new user sees. Then bursts: two functions (cold-ts and cold-ts-b,
 * the same code) at zero asked at the same moment, more cold starts than the standby pool holds
 * with its default size (`--standby` sets it).
 *
 *   node --import tsx --conditions @sprout/source bench/cold-start.ts [--runs 30] [--bursts 10] [--standby 1]
 *
 * Needs the CLI and the framework built (`npx tsc -b packages/cli`).
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ColdStartBreakdown, DevServer, PlatformEvent } from '@sprout/platform';
import { startBenchDev, untilZero } from './cold-start-dev.js';
import { percentile, root, startServer, writeResult } from './lib.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    bursts: { type: 'string', default: '10' },
    standby: { type: 'string' },
  },
});
const runs = Number(values.runs);
const bursts = Number(values.bursts);
const standby = values.standby !== undefined ? Number(values.standby) : undefined;
const fn = join(root, 'bench/fixtures/cold-ts');
const fnB = join(root, 'bench/fixtures/cold-ts-b');
const gffMain = join(root, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
const cacheDir = mkdtempSync(join(tmpdir(), 'sprout-bench-cold-cache-'));
const env = { ...process.env, NODE_ENV: 'production', SPROUT_LOG_LEVEL: 'warn', SPROUT_CACHE_DIR: cacheDir };
const epochMs = () => performance.timeOrigin + performance.now();
const r1 = (n: number) => Math.round(n * 10) / 10;

const stats = (xs: number[]) => ({
  medianMs: Math.round(percentile(xs, 50)),
  p99Ms: Math.round(percentile(xs, 99)),
  runs: xs.map(Math.round),
});

/** One cold start through the gateway, with where its time went. */
interface Through {
  ms: number;
  /** Request sent → scale decision (gateway hold and decision, the platform's port lookup start). */
  requestMs: number;
  /** Ready → first byte at the client (the gateway's hand-off of the held request and the function's answer). */
  forwardMs: number;
  breakdown: ColdStartBreakdown;
}

/** One request at zero through the gateway to `name`, with where its time went. */
async function coldRequest(dev: DevServer, name: string): Promise<Through> {
  let event: { at: number; e: PlatformEvent } | undefined;
  const off = dev.platform.events.subscribe((e) => {
    if (e.type === 'cold-start' && e.function === name) event = { at: epochMs(), e };
  });
  const t0 = epochMs();
  const r = await fetch(`${dev.url}/${name}/`);
  const t1 = epochMs(); // fetch resolves at the response head: first byte
  off();
  if (r.headers.get('x-sprout-cold-start') !== 'true') throw new Error('not a cold start');
  if (!(await r.text()).startsWith('Hello, ')) throw new Error('unexpected answer');
  if (!event) throw new Error('no cold-start event');
  const breakdown = event.e.breakdown as ColdStartBreakdown;
  return {
    ms: t1 - t0,
    requestMs: r1(event.at - breakdown.totalMs - t0),
    forwardMs: r1(t1 - event.at),
    breakdown,
  };
}

async function coldThroughGateway(dev: DevServer): Promise<Through> {
  await untilZero(dev, 'cold');
  return coldRequest(dev, 'cold');
}

/** Both functions at zero and the pool full, then one request to each at the same moment. */
async function burst(dev: DevServer, poolSize: number): Promise<Through[]> {
  await Promise.all([untilZero(dev, 'cold'), untilZero(dev, 'cold-b')]);
  while (dev.platform.standbyReady() < poolSize) await new Promise((r) => setTimeout(r, 20));
  return Promise.all([coldRequest(dev, 'cold'), coldRequest(dev, 'cold-b')]);
}

async function spawnToFirstByte(cmd: string[]): Promise<number> {
  const s = await startServer(cmd, { SPROUT_CACHE_DIR: cacheDir });
  await s.stop();
  return s.coldStartMs;
}

const dev = await startBenchDev([fn, fnB], env, standby);
const poolSize = standby ?? 1;
// The client's fetch loads on first use (tens of ms): not part of any start. No route answers `/`.
await (await fetch(`${dev.url}/`)).text();
const loads = [loadavg().map(r1)];
try {
  const through: Through[] = [];
  const sproutRun: number[] = [];
  const gff: number[] = [];
  for (let i = 0; i < runs; i++) {
    through.push(await coldThroughGateway(dev));
    sproutRun.push(
      await spawnToFirstByte([
        process.execPath,
        'packages/cli/bin/sprout.js',
        'run',
        fn,
        '--host',
        '127.0.0.1',
      ]),
    );
    gff.push(await spawnToFirstByte([process.execPath, gffMain, '--target=cold', `--source=${fn}/gff.cjs`]));
    if (i % 10 === 9) loads.push(loadavg().map(r1));
  }
  const burstStarts: Through[] = [];
  for (let i = 0; i < bursts; i++) burstStarts.push(...(await burst(dev, poolSize)));
  loads.push(loadavg().map(r1));
  const part = (pick: (t: Through) => number | undefined) => {
    const xs = through.map(pick).filter((x): x is number => x !== undefined);
    return { median: r1(percentile(xs, 50)), p99: r1(percentile(xs, 99)) };
  };
  const breakdown = {
    requestToDecision: part((t) => t.requestMs),
    handOff: part((t) => t.breakdown.handOffMs),
    ipcBothWays: part((t) => t.breakdown.ipcMs),
    setup: part((t) => t.breakdown.setupMs),
    moduleLoad: part((t) => t.breakdown.moduleLoadMs),
    tsCompile: part((t) => t.breakdown.tsCompile?.ms),
    listen: part((t) => t.breakdown.listenMs),
    forwardToFirstByte: part((t) => t.forwardMs),
  };
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    runs,
    loadAverage: loads,
    note: 'platform, gateway, instances, peers and other engineers’ work share a 2-core machine',
    sproutDev: stats(through.map((t) => t.ms)),
    firstStart: { ...through[0], ms: r1(through[0]!.ms) },
    peerSproutRun: stats(sproutRun),
    peerGoogleFunctionsFramework: stats(gff),
    breakdownMs: breakdown,
    burst: {
      standbyPool: poolSize,
      ...stats(burstStarts.map((t) => t.ms)),
      standbyUsed: burstStarts.filter((t) => t.breakdown.standby).length,
      withoutStandby: stats(burstStarts.filter((t) => !t.breakdown.standby).map((t) => t.ms)),
    },
    standbyUsed: through.filter((t) => t.breakdown.standby).length,
    tsCacheMisses: through.reduce((n, t) => n + (t.breakdown.tsCompile?.misses ?? 0), 0),
    starts: through.map((t) => ({
      ms: r1(t.ms),
      requestMs: t.requestMs,
      forwardMs: t.forwardMs,
      ...t.breakdown,
    })),
  };
  const d = result.sproutDev;
  console.log(
    `cold start to first byte, TypeScript + 2 deps, ${runs} interleaved rounds, load ${loads[0]!.join(' ')} → ${loads.at(-1)!.join(' ')}`,
  );
  console.log(
    `  sprout dev (gateway)   median ${d.medianMs} ms  p99 ${d.p99Ms} ms  (first start ${result.firstStart.ms} ms)`,
  );
  for (const [name, s] of [
    ['peer sprout run', result.peerSproutRun],
    ['peer Google FF (JS)', result.peerGoogleFunctionsFramework],
  ] as const) {
    console.log(
      `  ${name.padEnd(22)} median ${s.medianMs} ms  p99 ${s.p99Ms} ms  (sprout dev ${(d.medianMs / s.medianMs).toFixed(2)}x)`,
    );
  }
  const b = result.burst;
  console.log(
    `  bursts of 2 at once (${bursts}x, pool ${poolSize}): median ${b.medianMs} ms  p99 ${b.p99Ms} ms; ` +
      `standby used ${b.standbyUsed}/${burstStarts.length}` +
      (burstStarts.length > b.standbyUsed ? `, the others median ${b.withoutStandby.medianMs} ms` : ''),
  );
  console.log(
    `  breakdown (median / p99 ms), standby used ${result.standbyUsed}/${runs}, TS cache misses ${result.tsCacheMisses}:`,
  );
  for (const [k, v] of Object.entries(breakdown)) console.log(`    ${k.padEnd(20)} ${v.median} / ${v.p99}`);
  writeResult(standby !== undefined ? `cold-start-standby-${standby}` : 'cold-start', result);
} finally {
  await dev.close();
}
