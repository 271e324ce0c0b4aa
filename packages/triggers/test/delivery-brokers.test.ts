// The delivery engine over the real brokers on this machine (Redis Streams, NATS JetStream,
// RabbitMQ): Dapr-published messages reach a real node:http app at least once, a poison message is
// dead-lettered on the same broker while the others go through, and what a closed subscriber held
// is redelivered by the broker to the next one; with one in flight the order is the broker's.
// Every message is counted.
import { connect as amqp } from 'amqplib';
import { Redis } from 'ioredis';
import { connect as nats } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import {
  DEAD_LETTER_METADATA,
  FunctionDelivery,
  openPubSub,
  type ComponentConfig,
  type PubSubEngine,
} from '../src/index.js';
import { collect, DeliveryApp, until } from './delivery-app.js';
import { publishDapr } from './delivery-harness.js';

const log = createLogger({ level: 'silent' });
const run = `${process.pid}-${Date.now().toString(36)}`;

/** Removes what a test left on the broker: streams, stream keys, queues and exchanges. */
type Cleanup = (topics: string[], groups: string[]) => Promise<void>;

const redisCleanup: Cleanup = async (topics) => {
  const r = new Redis({ host: '127.0.0.1', port: 6379 });
  await r.del(...topics).finally(() => r.quit());
};
const jetstreamCleanup: Cleanup = async (topics) => {
  const nc = await nats({ servers: '127.0.0.1:4222' });
  const jsm = await nc.jetstreamManager();
  for (const t of topics) await jsm.streams.delete(t.replace(/[.*>\s/\\]/g, '_')).catch(() => {});
  await nc.close();
};
const rabbitCleanup: Cleanup = async (topics, groups) => {
  const conn = await amqp('amqp://guest:guest@127.0.0.1:5672');
  const ch = await conn.createChannel();
  for (const t of topics) {
    for (const g of groups) await ch.deleteQueue(`${g}-${t}`);
    await ch.deleteExchange(t);
  }
  await conn.close();
};

/**
 * The metadata key of the broker's redelivery timer for what stays unsettled. The handover test waits
 * for it (1 s); the others get one past any test: on a loaded machine a message held longer than 1 s
 * (at the app, or retried) is rightly delivered again by the broker, and would be counted twice.
 */
type RedeliveryTimer = 'processingTimeout' | 'ackWait';
const withTimer = (config: Omit<ComponentConfig, 'name'>, key: RedeliveryTimer | undefined, after: string) =>
  key ? { ...config, metadata: { ...config.metadata, [key]: after } } : config;

// MQTT keeps nothing but the engine's persistent sessions (unique client ids per run): no cleanup.
const brokers: [string, Omit<ComponentConfig, 'name'>, Cleanup?, RedeliveryTimer?][] = [
  [
    'redis',
    { type: 'pubsub.redis', metadata: { redisHost: '127.0.0.1:6379', redeliverInterval: '300ms' } },
    redisCleanup,
    'processingTimeout',
  ],
  [
    'jetstream',
    { type: 'pubsub.jetstream', metadata: { natsURL: 'nats://127.0.0.1:4222' } },
    jetstreamCleanup,
    'ackWait',
  ],
  [
    'rabbitmq',
    {
      type: 'pubsub.rabbitmq',
      metadata: {
        connectionString: 'amqp://guest:guest@127.0.0.1:5672',
        durable: 'true',
        deletedWhenUnused: 'false',
        reconnectWaitSeconds: '1',
      },
    },
    rabbitCleanup,
  ],
  [
    'mqtt3',
    { type: 'pubsub.mqtt3', metadata: { url: 'tcp://127.0.0.1:1883', consumerID: `sprout-delivery-${run}` } },
  ],
];

/** MQTT 3 has no message properties: the dead letter carries the payload, not the reason. */
const carriesMetadata = (name: string) => name !== 'mqtt3';

const idOf = (r: { json: any }) => r.json.data.i as number;

describe.each(brokers)('delivery over %s', (name, config, cleanup, timer) => {
  let app: DeliveryApp;
  /** Redelivers nothing by its timer while a test runs. */
  let bus: PubSubEngine;
  /** Redelivers what a closed subscriber left after 1 s. */
  let handoverBus: PubSubEngine;
  const topic = `sprout-delivery-${name}-${run}`;

  beforeAll(async () => {
    app = await DeliveryApp.start();
    bus = await openPubSub({ name: `sprout-delivery-${name}`, ...withTimer(config, timer, '10m') });
    handoverBus = await openPubSub({ name: `sprout-delivery-${name}`, ...withTimer(config, timer, '1s') });
  });
  afterAll(async () => {
    await bus?.close();
    await handoverBus?.close();
    await app?.close();
    await cleanup?.(
      [`${topic}-poison`, `${topic}-poison-dead`, `${topic}-handover`, `${topic}-order`, `${topic}-e2e`],
      ['fn', 'ops'],
    );
  });

  const publish = (t: string, data: unknown) => publishDapr(bus, t, data, 'pub');

  it('every message reaches the app; a poison one goes to the dead-letter topic on the same broker; nothing left behind', async () => {
    const t = `${topic}-poison`;
    const { got: dead, sub: reader } = await collect(bus, `${t}-dead`, 'ops');
    app.answer = (r, res) => res.writeHead(idOf(r) === 3 ? 500 : 200).end();
    app.subscriptions = [{ pubsubname: 'bus', topic: t, route: '/in', deadLetterTopic: `${t}-dead` }];
    const delivery = await FunctionDelivery.start(
      [{ kind: 'pubsub', name: 'in', pubsubname: 'bus', engine: bus, topic: t, group: 'fn' }],
      { target: app.target(), maxInFlight: 4, retry: { duration: '10ms', maxRetries: 2 }, log },
    );
    try {
      for (let i = 0; i < 20; i++) await publish(t, { i });
      // The dead letter can be read before the poison message's own ack is answered (Redis: the
      // XACK's reply), and the engine counts it dead-lettered and settled only then: wait for both.
      await until(() => {
        const c = delivery.counts().in!;
        return c.delivered === 19 && dead.length === 1 && c.deadLettered === 1 && c.inFlight === 0;
      }, `19 delivered and 1 dead on ${name}, all settled`);
      const good = new Set(app.received.filter((r) => idOf(r) !== 3).map(idOf));
      expect(good.size).toBe(19);
      expect(app.received.filter((r) => idOf(r) === 3)).toHaveLength(3);
      expect(app.maxActive).toBeLessThanOrEqual(4);
      expect(JSON.parse(Buffer.from(dead[0]!.data).toString()).data).toEqual({ i: 3 });
      if (carriesMetadata(name)) {
        expect(dead[0]!.metadata[DEAD_LETTER_METADATA.code]).toBe('SPROUT_ERR_TRIGGERS_DELIVERY_FAILED');
        expect(dead[0]!.metadata[DEAD_LETTER_METADATA.reason]).toMatch(/status 500/);
      }
      expect(delivery.counts().in).toMatchObject({
        delivered: 19,
        deadLettered: 1,
        failed: 3,
        retried: 2,
        inFlight: 0,
      });
      // The broker's own count of what is left (acks reach some brokers a moment later).
      let lag: Record<string, number | undefined> = {};
      for (let tries = 0; tries < 100; tries++) {
        lag = await delivery.lag();
        if (lag.in === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(lag).toEqual({ in: 0 });
    } finally {
      await delivery.close();
      await reader.close();
      app.received.length = 0;
      app.maxActive = 0;
    }
  });

  it('with maxInFlight 1 the app gets the messages in the order they were published; a retried one keeps its place', async () => {
    const t = `${topic}-order`;
    app.subscriptions = [{ pubsubname: 'bus', topic: t, route: '/in' }];
    let failedOnce = false;
    // Message 4 fails its first attempt: retried in its slot, so 5 and after still come after it.
    app.answer = (r, res) => {
      const fail = idOf(r) === 4 && !failedOnce;
      if (fail) failedOnce = true;
      res.writeHead(fail ? 500 : 200).end();
    };
    const delivery = await FunctionDelivery.start(
      [{ kind: 'pubsub', name: 'in', pubsubname: 'bus', engine: bus, topic: t, group: 'fn' }],
      { target: app.target(), maxInFlight: 1, retry: { duration: '10ms', maxRetries: 3 }, log },
    );
    try {
      const n = 15;
      for (let i = 0; i < n; i++) await publish(t, { i });
      await until(() => delivery.counts().in!.delivered === n, `${n} delivered on ${name}`);
      const ids = app.received.map(idOf);
      expect(ids).toEqual([0, 1, 2, 3, 4, 4, ...Array.from({ length: n - 5 }, (_, k) => k + 5)]);
      expect(delivery.counts().in).toMatchObject({ delivered: n, failed: 1, retried: 1, requeued: 0 });
      expect(app.maxActive).toBe(1);
    } finally {
      await delivery.close();
      app.received.length = 0;
      app.maxActive = 0;
    }
  });

  it('latency: take → ack on every broker; published → ack where the message carries when (Redis Streams, JetStream, RabbitMQ)', async () => {
    const t = `${topic}-e2e`;
    app.subscriptions = [{ pubsubname: 'bus', topic: t, route: '/in' }];
    const release = app.hold();
    const delivery = await FunctionDelivery.start(
      [{ kind: 'pubsub', name: 'in', pubsubname: 'bus', engine: bus, topic: t, group: 'fn' }],
      { target: app.target(), maxInFlight: 1, log },
    );
    try {
      await publish(t, { i: 0 });
      await until(() => app.active === 1, `the message at the app on ${name}`);
      // Held at the app for 200 ms at least: both spans are at least that (the broker's clock is
      // this machine's, to the millisecond).
      await new Promise((r) => setTimeout(r, 200));
      release();
      await until(() => delivery.counts().in!.delivered === 1, `delivered on ${name}`);
      const { latency, endToEnd } = delivery.counts().in!;
      expect(latency.count).toBe(1);
      expect(latency.sumMs).toBeGreaterThanOrEqual(200);
      // MQTT 3 carries no time: no end-to-end figure there.
      if (name !== 'mqtt3') {
        expect(endToEnd.count).toBe(1);
        expect(endToEnd.sumMs).toBeGreaterThanOrEqual(199);
        expect(endToEnd.buckets.reduce((a, b) => a + b, 0)).toBe(1);
      } else expect(endToEnd.count).toBe(0);
    } finally {
      await delivery.close();
      app.received.length = 0;
    }
  });

  it('what a closed subscriber held is redelivered by the broker to the next one (counted by the broker)', async () => {
    const t = `${topic}-handover`;
    app.subscriptions = [{ pubsubname: 'bus', topic: t, route: '/in' }];
    const release = app.hold();
    const trigger = {
      kind: 'pubsub' as const,
      name: 'in',
      pubsubname: 'bus',
      engine: handoverBus,
      topic: t,
      group: 'fn',
    };
    const options = { target: app.target(), maxInFlight: 2, retry: { duration: '10ms' }, log };
    const first = await FunctionDelivery.start([trigger], options);
    for (let i = 0; i < 2; i++) await publish(t, { i });
    await until(() => app.active === 2, 'both at the app');
    await first.close();
    expect(first.counts().in).toMatchObject({ delivered: 0, failed: 0, requeued: 2 });
    release();
    app.answer = (_r, res) => res.writeHead(200).end();
    const second = await FunctionDelivery.start([trigger], options);
    try {
      await until(() => second.counts().in!.delivered === 2, `the redelivery on ${name}`);
      const redelivered = app.received.slice(2);
      expect(redelivered.map(idOf).sort()).toEqual([0, 1]);
      // The same CloudEvents (same ids) as the first time: at least once, not a new message.
      expect(new Set(redelivered.map((r) => r.json.id))).toEqual(
        new Set(app.received.slice(0, 2).map((r) => r.json.id)),
      );
    } finally {
      await second.close();
      app.received.length = 0;
    }
  });
});
