/**
 * Platform benchmark (`sprout dev` = platform supervisor + gateway), one run on one machine:
 *  1. cold start from zero to first byte through `sprout dev` for a TypeScript function, against the
 *     peer `sprout run` (the same function started by hand, spawn to first byte), N runs each;
 *  2. soak: load rises and falls so the function scales 0→N→0 several times; every request counted.
 *
 *   node --import tsx --conditions @sprout/source bench/platform.ts [--cold-runs 20] [--cycles 3]
 *
 * Needs the CLI built (`npx tsc -b packages/cli`): instances run `packages/cli/bin/sprout.js run`.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DevServer } from '@sprout/platform';
import { startBenchDev, untilZero } from './cold-start-dev.js';
import { percentile, root, startServer, writeResult } from './lib.js';

const { values } = parseArgs({
  options: { 'cold-runs': { type: 'string', default: '20' }, cycles: { type: 'string', default: '3' } },
});
const coldRuns = Number(values['cold-runs']);
const cycles = Number(values.cycles);
const fn = join(root, 'bench/platform-hello');

const stats = (runs: number[]) => ({
  medianMs: Math.round(percentile(runs, 50)),
  p99Ms: Math.round(percentile(runs, 99)),
  runs: runs.map(Math.round),
});

/** One cold start through `sprout dev`: the function is at zero, one request, time to its response head. */
async function coldThroughPlatform(dev: DevServer): Promise<number> {
  await untilZero(dev, 'hello');
  const t0 = performance.now();
  const r = await fetch(`${dev.url}/`);
  const ms = performance.now() - t0; // fetch resolves at the response head: first byte
  if (r.headers.get('x-sprout-cold-start') !== 'true') throw new Error('not a cold start');
  await r.text();
  return ms;
}

/** The peer: the same function started by hand with `sprout run`, spawn to first byte. */
async function coldPeer(): Promise<number> {
  const s = await startServer([
    process.execPath,
    'packages/cli/bin/sprout.js',
    'run',
    fn,
    '--host',
    '127.0.0.1',
  ]);
  await s.stop();
  return s.coldStartMs;
}

async function soak(dev: DevServer) {
  const runner = dev.platform.runner('hello')!;
  const counts = { sent: 0, ok: 0, failed: 0, statuses: {} as Record<string, number> };
  const perCycle: { peakReady: number; backToZero: boolean }[] = [];
  for (let c = 0; c < cycles; c++) {
    await untilZero(dev, 'hello');
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, runner.readyInstances().length)), 20);
    const until = performance.now() + 4000;
    const client = async () => {
      while (performance.now() < until) {
        counts.sent++;
        try {
          const r = await fetch(`${dev.url}/?ms=20`);
          await r.text();
          if (r.status === 200) counts.ok++;
          else {
            counts.failed++;
            counts.statuses[r.status] = (counts.statuses[r.status] ?? 0) + 1;
          }
        } catch {
          counts.failed++;
        }
      }
    };
    // Load rises: 4 clients, then 16.
    const first = Array.from({ length: 4 }, client);
    await new Promise((r) => setTimeout(r, 1500));
    await Promise.all([...first, ...Array.from({ length: 12 }, client)]);
    clearInterval(watch);
    const t = performance.now();
    await untilZero(dev, 'hello');
    perCycle.push({ peakReady: peak, backToZero: performance.now() - t < 15_000 });
  }
  return { ...counts, lost: counts.sent - counts.ok - counts.failed, cycles: perCycle };
}

// The same environment the peer gets from startServer.
const dev = await startBenchDev([fn], { ...process.env, NODE_ENV: 'production', SPROUT_LOG_LEVEL: 'warn' });
try {
  // The client's fetch loads on first use (tens of ms): not part of any start.
  await (await fetch(`${dev.api.url}/v1/health`)).text();
  // Interleaved, so both see the same background load.
  const platformRuns: number[] = [];
  const peerRuns: number[] = [];
  for (let i = 0; i < coldRuns; i++) {
    platformRuns.push(await coldThroughPlatform(dev));
    peerRuns.push(await coldPeer());
  }
  const soakResult = await soak(dev);
  const cold = { platform: stats(platformRuns), peerSproutRun: stats(peerRuns) };
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    note: 'platform, gateway, instances and load share the machine; other benchmarks may run at the same time',
    cold,
    coldMedianRatio: +(cold.platform.medianMs / cold.peerSproutRun.medianMs).toFixed(2),
    soak: soakResult,
  };
  console.log(
    `cold start to first byte (TypeScript, ${coldRuns} runs): sprout dev median ${cold.platform.medianMs} ms ` +
      `p99 ${cold.platform.p99Ms} ms | peer sprout run median ${cold.peerSproutRun.medianMs} ms ` +
      `p99 ${cold.peerSproutRun.p99Ms} ms | ratio ${result.coldMedianRatio}x`,
  );
  console.log(
    `soak (${cycles} cycles 0→N→0): sent ${soakResult.sent}, ok ${soakResult.ok}, failed ${soakResult.failed}, ` +
      `lost ${soakResult.lost}; peaks ${soakResult.cycles.map((c) => c.peakReady).join(', ')}; ` +
      `back to zero ${soakResult.cycles.every((c) => c.backToZero)}`,
  );
  writeResult('platform', result);
} finally {
  await dev.close();
}
