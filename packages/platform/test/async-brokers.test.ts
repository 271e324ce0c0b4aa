// Async functions on the brokers of this machine in startDev — Redis Streams (pubsub.redis, KEDA
// redis-streams), RabbitMQ (pubsub.rabbitmq, KEDA rabbitmq QueueLength) and Mosquitto (pubsub.mqtt3,
// Sprout's mqtt scaler): published through sprout dev's Dapr API, scaled from zero by the lag
// scaler, every message delivered and the lag back to 0.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './async-dev.js';
import { startTestDev, type TestDev } from './helpers.js';

const REDIS = process.env.SPROUT_TEST_REDIS ?? '127.0.0.1:6379';
const tag = `sprout-platform-brokers-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'sprout-async-brokers-'));
let dev: TestDev;

interface Broker {
  fn: string;
  type: string;
  metadata: Record<string, string>;
  scaler: { type: string; metadata: Record<string, string> };
}

const brokers: Broker[] = [
  {
    fn: 'redis-orders',
    type: 'pubsub.redis',
    metadata: { redisHost: REDIS, consumerID: 'redis-orders' },
    scaler: {
      type: 'redis-streams',
      metadata: { address: REDIS, stream: `${tag}-redis`, consumerGroup: 'redis-orders', lagCount: '5' },
    },
  },
  {
    fn: 'rabbit-orders',
    type: 'pubsub.rabbitmq',
    metadata: { connectionString: 'amqp://guest:guest@127.0.0.1:5672', consumerID: 'rabbit-orders' },
    scaler: {
      type: 'rabbitmq',
      metadata: {
        host: 'amqp://guest:guest@127.0.0.1:5672/',
        queueName: `rabbit-orders-${tag}-rabbit`,
        mode: 'QueueLength',
        value: '5',
      },
    },
  },
  {
    fn: 'mqtt-orders',
    type: 'pubsub.mqtt3',
    metadata: { url: 'tcp://127.0.0.1:1883', consumerID: `${tag}-mqtt` },
    scaler: { type: 'mqtt', metadata: { topic: `${tag}-mqtt`, targetValue: '5' } },
  },
];
/** The topic of a broker's function: `<tag>-redis`, `<tag>-rabbit`, `<tag>-mqtt`. */
const topicOf = (b: Broker) => `${tag}-${b.fn.split('-')[0]}`;

const yamlList = (m: Record<string, string>, indent: string) =>
  Object.entries(m)
    .map(([k, v]) => `${indent}- name: ${k}\n${indent}  value: '${v}'`)
    .join('\n');
const yamlMap = (m: Record<string, string>, indent: string) =>
  Object.entries(m)
    .map(([k, v]) => `${indent}${k}: '${v}'`)
    .join('\n');

beforeAll(async () => {
  const paths = brokers.map((b) => {
    const fn = join(dir, b.fn);
    mkdirSync(fn);
    writeFileSync(join(fn, 'package.json'), `{ "name": "${b.fn}", "type": "module", "main": "index.js" }\n`);
    writeFileSync(join(fn, 'index.js'), 'export async function take(ctx, data) {\n  return undefined;\n}\n');
    writeFileSync(
      join(fn, 'function.yaml'),
      `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: ${b.fn}
spec:
  version: v1.0.0
  serving:
    params:
      FUNCTION_TARGET: take
    pubsub:
      ${b.fn}-bus:
        type: ${b.type}
        version: v1
        metadata:
${yamlList(b.metadata, '          ')}
    triggers:
      dapr:
        - name: ${b.fn}-bus
          inputName: orders
          topic: ${topicOf(b)}
    scaleOptions:
      minReplicas: 0
      maxReplicas: 2
      keda:
        scaledObject:
          pollingInterval: 1
          cooldownPeriod: 2
        triggers:
          - type: ${b.scaler.type}
            metadata:
${yamlMap(b.scaler.metadata, '              ')}
`,
    );
    return fn;
  });
  dev = await startTestDev(paths, { eip: false, collector: false, standby: 0 });
});

afterAll(async () => {
  await dev?.close();
  const redis = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  await redis.del(`${tag}-redis`);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

describe('async functions on the real brokers in sprout dev', () => {
  it.each(brokers)(
    '$type: scaled from zero on the lag, every message delivered, the lag back to 0',
    async (b) => {
      expect(dev.platform.problems()).toEqual([]);
      expect(dev.platform.runner(b.fn)!.status().desiredReplicas).toBe(0);
      const n = 10;
      for (let i = 0; i < n; i++) {
        const r = await fetch(`${dev.async.url}/v1.0/publish/${b.fn}-bus/${topicOf(b)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'dapr-api-token': dev.api.token },
          body: JSON.stringify({ i }),
        });
        expect(r.status).toBe(204);
      }
      const t = await until(`${b.fn}: every message delivered and the lag read as 0`, () => {
        const v = dev.platform.view(b.fn).triggers?.orders;
        return v && v.delivered === n && v.inFlight === 0 && v.lag === 0 ? v : undefined;
      });
      expect(t).toMatchObject({ delivered: n, failed: 0, deadLettered: 0, dropped: 0 });
      const up = dev.platform.events
        .since(0)
        .find((e) => e.type === 'scale' && e.function === b.fn && e.from === 0);
      expect(up).toMatchObject({ source: 'triggers' });
      // The scaler's gauge is its last reading (every pollingInterval, 1 s): the one after the lag fell.
      await expect
        .poll(async () => (await fetch(`${dev.api.url}/metrics`)).text(), { timeout: 10_000 })
        .toContain(
          `sprout_triggers_scaler_value{function="${b.fn}",trigger="${b.scaler.type}-0",type="${b.scaler.type}"} 0`,
        );
    },
  );
});
