import { connect as amqp } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LagPoller,
  openPubSub,
  readScaleOptions,
  type PubSubEngine,
  type Subscription,
  type TriggerReading,
} from '../src/index.js';
import { waitFor } from './conformance.js';

/**
 * KEDA's rabbitmq `mode: MessageRate` on the real broker, without RabbitMQ's management API: the
 * publish rate derived from the queue's depth between polls plus the messages the consumer acked.
 */
const TOPIC = `scaling-rate-${process.pid}-${Date.now().toString(36)}`;
const GROUP = 'rate-fn';
const enc = new TextEncoder();

describe('rabbitmq MessageRate from queue depth and acks (RabbitMQ)', () => {
  let bus: PubSubEngine;
  afterAll(async () => {
    await bus?.close();
    const conn = await amqp('amqp://guest:guest@127.0.0.1:5672');
    const ch = await conn.createChannel();
    await ch.deleteQueue(`${GROUP}-${TOPIC}`);
    await ch.deleteExchange(TOPIC);
    await conn.close();
  });

  it('reads the rate of what was published between two polls, acked or still queued', async () => {
    bus = await openPubSub({
      name: 'rate-bus',
      type: 'pubsub.rabbitmq',
      metadata: {
        connectionString: 'amqp://guest:guest@127.0.0.1:5672',
        durable: 'true',
        deletedWhenUnused: 'false',
      },
    });
    let settled = 0;
    const consume = () =>
      bus.subscribe({
        topic: TOPIC,
        group: GROUP,
        maxInFlight: 10,
        onMessage: (d) => void d.ack().then(() => settled++),
        onError: () => {},
      });
    let sub: Subscription = await consume();
    const { policy, triggers } = readScaleOptions({
      maxReplicas: 10,
      keda: {
        triggers: [
          { type: 'rabbitmq', metadata: { queueName: `${GROUP}-${TOPIC}`, mode: 'MessageRate', value: '2' } },
        ],
      },
    });
    // The poller's clock is the test's, so the seconds between polls are exact.
    let now = 1_000_000;
    let replicas = 0;
    const readings: TriggerReading[] = [];
    const poller = new LagPoller({
      name: 'rate-fn',
      policy,
      triggers,
      measure: async () => ({ lag: await sub.lag(), settled }),
      current: () => replicas,
      scaleTo: (n) => (replicas = n),
      onDecision: (_d, r) => readings.push(...r),
      clock: () => now,
    });
    await poller.poke(); // the first reading: nothing to compare with yet
    expect(readings.at(-1)).toMatchObject({ value: 0, active: false });

    for (let i = 0; i < 40; i++) await bus.publish(TOPIC, enc.encode(`m${i}`));
    await waitFor(async () => settled === 40 && (await sub.lag()) === 0, 'all 40 consumed and acked');
    now += 10_000;
    await poller.poke();
    // 40 published in 10 s, all acked: depth 0 → 0, acks 40: 4 msg/s; value 2 a replica → 2.
    expect(readings.at(-1)).toMatchObject({ value: 4, active: true, replicas: 2 });
    expect(replicas).toBe(2);

    // Nobody consuming: 30 published stay in the queue; the depth delta is the rate (3 msg/s).
    await sub.close();
    for (let i = 0; i < 30; i++) await bus.publish(TOPIC, enc.encode(`q${i}`));
    sub = await bus.subscribe({
      topic: TOPIC,
      group: GROUP,
      maxInFlight: 1,
      onMessage: () => {}, // holds one, acks none
      onError: () => {},
    });
    await waitFor(async () => (await sub.lag()) === 30, 'the 30 counted in the queue');
    now += 10_000;
    await poller.poke();
    expect(readings.at(-1)).toMatchObject({ value: 3, active: true, replicas: 2 });

    // Nothing published for a while: rate 0, but the 30 waiting keep it active (KEDA's MessageRate).
    now += 10_000;
    await poller.poke();
    expect(readings.at(-1)).toMatchObject({ value: 0, active: true });
    await poller.close();
    await sub.close();
    // Consume the rest so the queue can be deleted empty.
    sub = await consume();
    await waitFor(() => settled === 70, 'the queue drained');
    await sub.close();
  }, 30_000);
});
