// Shared timing helpers for the state benchmarks: run an operation from N concurrent workers for a
// fixed time and report operations per second and latency percentiles.
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

export interface Figures {
  ops: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export async function measure(
  op: (i: number) => Promise<unknown>,
  { concurrency = 16, seconds = Number(process.env.BENCH_SECONDS ?? 3), warmupSeconds = 0.5 } = {},
): Promise<Figures> {
  const run = async (ms: number, record: boolean) => {
    const lat: number[] = [];
    let i = 0;
    const end = performance.now() + ms;
    const worker = async () => {
      while (performance.now() < end) {
        const n = i++;
        const t = performance.now();
        await op(n);
        if (record) lat.push(performance.now() - t);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { lat, elapsed: performance.now() - t0 };
  };
  await run(warmupSeconds * 1000, false);
  const { lat, elapsed } = await run(seconds * 1000, true);
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
  return {
    ops: lat.length,
    opsPerSec: Math.round((lat.length / elapsed) * 1000),
    p50Ms: Number(pct(50).toFixed(3)),
    p99Ms: Number(pct(99).toFixed(3)),
  };
}

/**
 * Measures two operations in alternating rounds (a, b, a, b, …) so that load from other processes
 * on a shared machine falls on both alike; returns the round with the median throughput of each.
 */
export async function compare(
  a: (i: number) => Promise<unknown>,
  b: (i: number) => Promise<unknown>,
  { concurrency = 16, rounds = Number(process.env.BENCH_ROUNDS ?? 3) } = {},
): Promise<{ a: Figures; b: Figures }> {
  const ra: Figures[] = [];
  const rb: Figures[] = [];
  for (let r = 0; r < rounds; r++) {
    ra.push(await measure(a, { concurrency }));
    rb.push(await measure(b, { concurrency }));
  }
  const median = (xs: Figures[]) =>
    [...xs].sort((x, y) => x.opsPerSec - y.opsPerSec)[Math.floor(xs.length / 2)]!;
  return { a: median(ra), b: median(rb) };
}

export function value(i: number): Record<string, unknown> {
  return {
    id: `order-${i}`,
    total: (i % 1000) / 10,
    customer: { name: 'Ada Lovelace', tier: i % 3 ? 'silver' : 'gold' },
    items: ['tea', 'scone', 'jam'],
    at: '2026-11-24T12:00:00Z',
  };
}

export function writeResults(name: string, data: unknown): string {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${name}.json`;
  writeFileSync(
    file,
    JSON.stringify(
      {
        name,
        at: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        note: 'shared machine: other engineers were running tests; figures are noisy',
        ...(data as object),
      },
      null,
      2,
    ) + '\n',
  );
  return file;
}

export const fmt = (f: Figures) =>
  `${String(f.opsPerSec).padStart(7)} ops/s  p50 ${f.p50Ms.toFixed(3)} ms  p99 ${f.p99Ms.toFixed(3)} ms`;
