// An async function on Redis Streams (pubsub.redis, KEDA redis-streams trigger) in startDev, against
// the Redis on this machine: published through sprout dev's Dapr API, scaled from zero on the
// stream's lag, every message delivered and the lag back to 0.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './async-dev.js';
import { startTestDev, type TestDev } from './helpers.js';

const REDIS = process.env.SPROUT_TEST_REDIS ?? '127.0.0.1:6379';
const stream = `sprout-platform-redis-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'sprout-async-redis-'));
let dev: TestDev;

beforeAll(async () => {
  const fn = join(dir, 'redis-orders');
  mkdirSync(fn);
  writeFileSync(
    join(fn, 'package.json'),
    '{ "name": "redis-orders", "type": "module", "main": "index.js" }\n',
  );
  writeFileSync(join(fn, 'index.js'), 'export async function take(ctx, data) {\n  return undefined;\n}\n');
  writeFileSync(
    join(fn, 'function.yaml'),
    `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: redis-orders
spec:
  version: v1.0.0
  serving:
    params:
      FUNCTION_TARGET: take
    pubsub:
      orders:
        type: pubsub.redis
        version: v1
        metadata:
          - name: redisHost
            value: ${REDIS}
          - name: consumerID
            value: redis-orders
    triggers:
      dapr:
        - name: orders
          topic: ${stream}
    scaleOptions:
      minReplicas: 0
      maxReplicas: 2
      keda:
        scaledObject:
          pollingInterval: 1
          cooldownPeriod: 2
        triggers:
          - type: redis-streams
            metadata:
              address: ${REDIS}
              stream: ${stream}
              consumerGroup: redis-orders
              lagCount: '5'
`,
  );
  dev = await startTestDev([fn], { eip: false, collector: false, standby: 0 });
});

afterAll(async () => {
  await dev?.close();
  const redis = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  await redis.del(stream);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

describe('an async function on Redis Streams in sprout dev', () => {
  it('scales from zero on the lag, delivers every message, and the lag returns to 0', async () => {
    expect(dev.platform.runner('redis-orders')!.status().desiredReplicas).toBe(0);
    const n = 10;
    for (let i = 0; i < n; i++) {
      const r = await fetch(`${dev.async.url}/v1.0/publish/orders/${stream}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'dapr-api-token': dev.api.token },
        body: JSON.stringify({ i }),
      });
      expect(r.status).toBe(204);
    }
    const t = await until('every message delivered and the lag read as 0', () => {
      const v = dev.platform.view('redis-orders').triggers?.orders;
      return v && v.delivered === n && v.inFlight === 0 && v.lag === 0 ? v : undefined;
    });
    expect(t).toMatchObject({ delivered: n, failed: 0, deadLettered: 0, dropped: 0 });
    const up = dev.platform.events
      .since(0)
      .find((e) => e.type === 'scale' && e.function === 'redis-orders' && e.from === 0);
    expect(up).toMatchObject({ source: 'triggers' });
    const metrics = await (await fetch(`${dev.api.url}/metrics`)).text();
    expect(metrics).toMatch(
      /sprout_triggers_scaler_value\{function="redis-orders",trigger="redis-streams-0",type="redis-streams"\} 0/,
    );
  });
});
