// The Functions page's numbers from the gateway's /metrics text: a real prom-client histogram (the
// gateway's kind) rendered and parsed, its p99 over the requests between two readings.
import { Histogram, createMetrics } from '@sprout/observe/metrics';
import { describe, expect, it } from 'vitest';
import { functionStats, parseMetrics, quantile } from '../web/src/api/metrics.js';

describe('functionStats', () => {
  it("gives each function's request p99 over the requests since the previous reading", async () => {
    const registry = createMetrics();
    const h = new Histogram({
      name: 'sprout_gateway_request_duration_seconds',
      help: 'h',
      labelNames: ['function'],
      buckets: [0.01, 0.1, 1],
      registers: [registry],
    });
    const read = async (before?: ReturnType<typeof functionStats>) =>
      functionStats(parseMetrics(await registry.metrics()), before);
    for (let i = 0; i < 100; i++) h.observe({ function: 'a' }, 0.005);
    h.observe({ function: 'b' }, 0.5);
    const first = await read();
    // 100 requests all under 10 ms: interpolated inside the first bucket.
    expect(first.get('a')!.p99).toBeCloseTo(0.0099, 4);
    expect(first.get('b')!.p99).toBeGreaterThan(0.1);
    // Slow requests after the first reading: the window holds only them.
    for (let i = 0; i < 10; i++) h.observe({ function: 'a' }, 0.5);
    const second = await read(first);
    expect(second.get('a')!.p99).toBeGreaterThan(0.1);
    expect(second.get('a')!.p99).toBeLessThanOrEqual(1);
    // No request since: no p99 rather than a stale one.
    expect((await read(second)).get('a')!.p99).toBeUndefined();
  });

  it('answers the largest bound for the +Inf bucket and nothing for no requests', () => {
    expect(
      quantile(0.99, [
        [1, 0],
        [Infinity, 5],
      ]),
    ).toBe(1);
    expect(
      quantile(
        0.99,
        [
          [1, 3],
          [Infinity, 3],
        ],
        [
          [1, 3],
          [Infinity, 3],
        ],
      ),
    ).toBeUndefined();
    expect(quantile(0.99, [])).toBeUndefined();
  });
});
