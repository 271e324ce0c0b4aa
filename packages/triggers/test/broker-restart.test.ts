// A broker restarted mid-stream, counted: each broker is a private one of this file (its own port and
// data folder, persistence on), stopped while the delivery engine is handling a stream of messages and
// started again on the same port and data. Every message published must reach the app at least once:
// lost must be 0; duplicates (at-least-once redeliveries) are counted and printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import { envelopeOf } from '../src/api/envelope.js';
import { FunctionDelivery, openPubSub, type ComponentConfig, type PubSubEngine } from '../src/index.js';
import { waitFor } from './conformance.js';
import { DeliveryApp, until } from './delivery-app.js';
import { PrivateBroker, type BrokerKind } from './private-broker.js';

const run = `${process.pid}-${Date.now().toString(36)}`;
const enc = (s: string) => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Case {
  kind: BrokerKind;
  /** How the broker is stopped mid-stream. */
  signal: 'SIGTERM' | 'SIGKILL';
  component(b: PrivateBroker): Omit<ComponentConfig, 'name'>;
}

const cases: [string, Case][] = [
  [
    'pubsub.redis',
    {
      kind: 'redis',
      // Redis writes its append-only file before it answers, so even kill -9 keeps what it took.
      signal: 'SIGKILL',
      component: (b) => ({
        type: 'pubsub.redis',
        metadata: { redisHost: b.address, processingTimeout: '1s', redeliverInterval: '300ms' },
      }),
    },
  ],
  [
    'pubsub.jetstream',
    {
      kind: 'nats',
      // JetStream's file store (written before the publish is acknowledged): kill -9 lost none in our runs.
      signal: 'SIGKILL',
      component: (b) => ({
        type: 'pubsub.jetstream',
        metadata: { natsURL: `nats://${b.address}`, ackWait: '1s' },
      }),
    },
  ],
  [
    'pubsub.mqtt3',
    {
      kind: 'mosquitto',
      signal: 'SIGTERM',
      component: (b) => ({
        type: 'pubsub.mqtt3',
        metadata: { url: `tcp://${b.address}`, consumerID: `sprout-restart-${run}` },
      }),
    },
  ],
  [
    'pubsub.rabbitmq',
    {
      kind: 'rabbitmq',
      signal: 'SIGTERM',
      // What surviving a restart takes on RabbitMQ (Dapr's defaults are neither durable nor confirmed).
      component: (b) => ({
        type: 'pubsub.rabbitmq',
        metadata: {
          connectionString: `amqp://guest:guest@${b.address}`,
          durable: 'true',
          deletedWhenUnused: 'false',
          deliveryMode: '2',
          publisherConfirm: 'true',
          reconnectWaitSeconds: '1',
        },
      }),
    },
  ],
];

/** Publishes, retrying while the engine is still reconnecting (as a caller of the Dapr API would). */
async function publishRetrying(bus: PubSubEngine, topic: string, i: number): Promise<void> {
  const ce = envelopeOf(enc(JSON.stringify({ i })), 'application/json', {
    appId: 'pub',
    pubsub: 'bus',
    topic,
    metadata: {},
  });
  const bytes = enc(JSON.stringify(ce));
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      return await bus.publish(topic, bytes);
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(100);
    }
  }
}

// A RabbitMQ node takes seconds to boot: it starts while the other brokers' cases run.
let rabbitStarting: Promise<PrivateBroker> | undefined;
beforeAll(() => {
  rabbitStarting = PrivateBroker.start('rabbitmq');
  rabbitStarting.catch(() => undefined); // awaited (and reported) by its own case
});
afterAll(async () => {
  await (await rabbitStarting?.catch(() => undefined))?.close(); // also when its case did not run
});

describe.each(cases)('%s: the broker restarted mid-stream', (name, c) => {
  let broker: PrivateBroker;
  let app: DeliveryApp;
  let bus: PubSubEngine;
  const logged: string[] = [];

  beforeAll(async () => {
    broker = await (c.kind === 'rabbitmq' ? rabbitStarting! : PrivateBroker.start(c.kind));
    app = await DeliveryApp.start();
    bus = await openPubSub({ name: `restart-${c.kind}`, ...c.component(broker) });
  }, 120_000);
  afterAll(async () => {
    await bus?.close();
    await app?.close();
    await broker?.close();
  });

  it(`reconnects after ${c.kind} is stopped (${c.signal}) and started again; nothing is lost`, async () => {
    const topic = `restart-${c.kind}-${run}`;
    const n = 40;
    // A slow app: messages are in flight (taken, not acked) when the broker goes away.
    app.answer = async (_r, res) => {
      await sleep(15);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"SUCCESS"}');
    };
    const delivery = await FunctionDelivery.start(
      [{ kind: 'pubsub', name: 'in', pubsubname: 'bus', engine: bus, topic, group: 'fn', route: '/in' }],
      {
        target: app.target(),
        maxInFlight: 4,
        retry: { duration: '100ms', maxRetries: -1 },
        log: createLogger({ level: 'info', destination: { write: (l: string) => void logged.push(l) } }),
      },
    );
    const handled = () => new Set(app.received.map((r) => r.json?.data?.i as number));
    try {
      for (let i = 0; i < n / 2; i++) await publishRetrying(bus, topic, i);
      await until(() => handled().size >= 5, 'the first deliveries', 15_000);
      await broker.down(c.signal);
      await sleep(300); // the engine notices the broker is gone
      await broker.up();
      for (let i = n / 2; i < n; i++) await publishRetrying(bus, topic, i);
      await until(() => handled().size === n, `all ${n} messages handled`, 60_000);
      const seen = app.received.map((r) => r.json.data.i as number);
      const lost = n - handled().size;
      const duplicates = seen.length - handled().size;
      console.info(
        `${name}: ${n} published, ${lost} lost, ${duplicates} handled twice, restart ${c.signal}, ${delivery.counts().in!.reconnects} reconnects`,
      );
      expect(lost).toBe(0);
      expect([...handled()].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
      // Acks that could not reach the broker while it was down are redeliveries, not losses: the
      // broker holds nothing unacked in the end.
      await waitFor(async () => (await delivery.lag()).in === 0, 'lag 0', 30_000);
      expect(delivery.counts().in).toMatchObject({ deadLettered: 0, dropped: 0 });
      // Counted per trigger (the REST view and /metrics show it in sprout dev) and logged.
      expect(delivery.counts().in!.reconnects).toBeGreaterThanOrEqual(1);
      expect(logged.join('\n')).toMatch(/broker connection problem; reconnecting/);
      expect(logged.join('\n')).toMatch(/broker connection back; consuming again/);
    } finally {
      await delivery.close();
      app.received.length = 0;
    }
  }, 120_000);
});
