import { Redis } from 'ioredis';
import { connect } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '@sprout/observe/metrics';
import {
  createLagMetrics,
  LagPoller,
  openPubSub,
  readScaleOptions,
  type Delivery,
  type PubSubEngine,
  type Subscription,
} from '../src/index.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const enc = new TextEncoder();

/** A function "at" `replicas`, as the platform's supervisor would report and set it. */
function supervisor() {
  const calls: [number, string][] = [];
  let replicas = 0;
  return {
    calls,
    current: () => replicas,
    scaleTo: (n: number, reason: string) => {
      calls.push([n, reason]);
      replicas = n;
    },
  };
}

const TOPIC = `scaling-poller-orders-${process.pid}`;
const ENGINES = [
  { type: 'pubsub.in-memory', metadata: {} },
  { type: 'pubsub.redis', metadata: { redisHost: '127.0.0.1:6379' } },
  { type: 'pubsub.jetstream', metadata: { natsURL: 'nats://127.0.0.1:4222' } },
];

describe.each(ENGINES)('LagPoller on $type', ({ type, metadata }) => {
  it('scales on the subscription lag, to zero after the cooldown, and joins gateway demand', async () => {
    const bus: PubSubEngine = await openPubSub({ name: 'poller-bus', type, metadata });
    closers.push(() => bus.close());
    if (type === 'pubsub.jetstream') {
      closers.push(async () => {
        const nc = await connect({ servers: '127.0.0.1:4222' });
        await (
          await nc.jetstreamManager()
        ).streams
          .delete(TOPIC.replace(/[.*>\s/\\]/g, '_'))
          .catch(() => false);
        await nc.close();
      });
    }
    if (type === 'pubsub.redis') {
      const admin = new Redis({ host: '127.0.0.1', port: 6379 });
      closers.push(async () => {
        await admin.del(TOPIC);
        await admin.quit();
      });
    }
    const held: Delivery[] = [];
    const sub: Subscription = await bus.subscribe({
      topic: TOPIC,
      group: 'scaling-poller',
      maxInFlight: 5,
      onMessage: (d) => held.push(d),
      onError: () => undefined,
    });
    closers.push(() => sub.close());
    const { policy, triggers } = readScaleOptions({
      maxReplicas: 4,
      keda: {
        scaledObject: { pollingInterval: 1, cooldownPeriod: 30 },
        triggers: [
          {
            type: 'nats-jetstream',
            name: 'orders',
            metadata: { stream: 'o', consumer: 'c', lagThreshold: '10' },
          },
        ],
      },
    });
    let now = 1_000_000;
    let http = 0;
    const fn = supervisor();
    const readings: number[] = [];
    const registry = createMetrics();
    const metrics = createLagMetrics(registry);
    const poller = new LagPoller({
      name: 'orders-fn',
      policy,
      triggers,
      measure: async () => ({ lag: await sub.lag() }),
      otherDemand: () => [{ source: 'http', replicas: http, active: http > 0 }],
      current: fn.current,
      scaleTo: fn.scaleTo,
      onDecision: (d, r) => {
        readings.push(r[0]!.value);
        metrics.record('orders-fn', d, r);
      },
      clock: () => now,
    });
    closers.push(() => poller.close());

    expect((await poller.poke()).replicas).toBe(0);
    expect(fn.calls).toEqual([]);

    for (let i = 0; i < 25; i++) await bus.publish(TOPIC, enc.encode(`{"n":${i}}`));
    expect((await poller.poke()).replicas).toBe(3);
    expect(readings.at(-1)).toBe(25);
    expect(fn.calls.at(-1)?.[0]).toBe(3);
    const text = await registry.metrics();
    expect(text).toContain(
      'sprout_triggers_scaler_value{function="orders-fn",trigger="orders",type="nats-jetstream"} 25',
    );
    expect(text).toContain(
      'sprout_triggers_scaler_active{function="orders-fn",trigger="orders",type="nats-jetstream"} 1',
    );
    expect(text).toContain('sprout_triggers_desired_replicas{function="orders-fn"} 3');

    // 60 messages would ask 6: capped at maxReplicas 4.
    for (let i = 0; i < 35; i++) await bus.publish(TOPIC, enc.encode('{}'));
    expect((await poller.poke()).replicas).toBe(4);

    // Everything handled: lag 0, inactive, but within the cooldown the function stays up.
    // Settle everything, as the function would (the broker hands out maxInFlight at a time).
    for (let i = 0; i < 500 && ((await sub.lag()) ?? 0) > 0; i++) {
      const batch = held.splice(0);
      for (const d of batch) await d.ack();
      if (!batch.length) await new Promise((r) => setTimeout(r, 10));
    }
    expect(await sub.lag()).toBe(0);
    now += 10_000;
    expect((await poller.poke()).replicas).toBe(1);
    // The gateway asks for 2 (HTTP traffic): one decision path takes it.
    http = 2;
    now += 10_000;
    expect((await poller.poke()).replicas).toBe(2);
    http = 0;
    now += 29_000;
    expect((await poller.poke()).replicas).toBe(1);
    now += 1_000;
    const zero = await poller.poke();
    expect(zero.replicas).toBe(0);
    expect(fn.calls.at(-1)).toEqual([0, zero.reason]);
    expect(fn.current()).toBe(0);
    expect(await registry.metrics()).toContain('sprout_triggers_desired_replicas{function="orders-fn"} 0');
    metrics.forget('orders-fn', triggers);
    expect(await registry.metrics()).not.toContain('function="orders-fn"');
  });
});

describe('LagPoller without a broker', () => {
  it('counts a trigger that cannot be measured as inactive and reports it', async () => {
    const { policy, triggers } = readScaleOptions({
      keda: { triggers: [{ type: 'redis-streams', metadata: { stream: 's', consumerGroup: 'g' } }] },
    });
    const fn = supervisor();
    const errors: unknown[] = [];
    const poller = new LagPoller({
      name: 'broken',
      policy,
      triggers,
      measure: async () => {
        throw new Error('broker down');
      },
      current: fn.current,
      scaleTo: fn.scaleTo,
      onError: (_t, err) => errors.push(err),
    });
    closers.push(() => poller.close());
    const d = await poller.poke();
    expect(d.replicas).toBe(0);
    expect(d.active).toBe(false);
    expect(errors).toHaveLength(1);
  });
});
