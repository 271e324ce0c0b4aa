// An async function end to end on one machine, each part the real one: @sprout/spec reads an
// OpenFunction async Function, @sprout/framework serves it (the async runtime: GET /dapr/subscribe
// and POST per input), the Dapr publish API puts Dapr's envelope on the broker, and the delivery
// engine of @sprout/triggers hands each message to the framework as daprd would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '@sprout/framework';
import { createLogger } from '@sprout/observe';
import { resolveFunctionText, type ResolvedFunction } from '@sprout/spec';
import {
  createDaprApiServer,
  DEAD_LETTER_METADATA,
  type FunctionDelivery,
  openInputBinding,
  openPubSub,
  triggersFor,
  type DaprApiServer,
  type Delivery,
  type InputBindingEngine,
  type PubSubEngine,
} from '@sprout/triggers';
import { deliverTo, until } from './helpers.js';

const quiet = createLogger({ level: 'silent' });
const topic = `orders-${process.pid}`;

// The shape of OpenFunction's async samples (mqtt-io-node's async-pubsub), on the in-memory broker.
const yaml = `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: order-handler
spec:
  version: v1.0.0
  serving:
    pubsub:
      bus:
        type: pubsub.in-memory
        version: v1
        metadata: []
    bindings:
      tick:
        type: bindings.cron
        version: v1
        metadata:
          - name: schedule
            value: '@every 200ms'
    triggers:
      dapr:
        - name: bus
          topic: ${topic}
          inputName: orders
        - name: tick
    scaleOptions:
      minReplicas: 0
      maxReplicas: 3
`;

interface Seen {
  input: unknown;
  data: unknown;
}

describe('an OpenFunction async function fed by the delivery engine', () => {
  let fn: ResolvedFunction;
  let server: RunningServer;
  let bus: PubSubEngine;
  let tick: InputBindingEngine;
  let api: DaprApiServer;
  let apiUrl = '';
  let delivery: FunctionDelivery;
  const seen: Seen[] = [];
  const dead: Delivery[] = [];

  beforeAll(async () => {
    fn = resolveFunctionText(yaml, 'order-handler/function.yaml');
    server = await serve({
      functions: {
        fn: async (ctx: { input?: unknown }, data: unknown) => {
          seen.push({ input: ctx.input, data });
          if ((data as { poison?: boolean } | null)?.poison) throw new Error('cannot handle this order');
        },
        context: fn.context,
      },
      port: 0,
      host: '127.0.0.1',
      logger: quiet,
    });
    bus = await openPubSub({ name: 'bus', type: 'pubsub.in-memory', metadata: {} });
    api = createDaprApiServer({ pubsubs: { bus }, appId: 'checkout', logger: quiet });
    apiUrl = (await api.listen(0)).url;
    tick = await openInputBinding({
      name: 'tick',
      type: 'bindings.cron',
      metadata: { schedule: '@every 200ms' },
    });
    await bus.subscribe({
      topic: `${topic}-dead`,
      group: 'ops',
      maxInFlight: 10,
      onMessage: (d) => {
        dead.push(d);
        void d.ack();
      },
      onError: () => {},
    });
    // Dead letters of the orders subscription, as a declarative Subscription would give them.
    const triggers = triggersFor(fn, { pubsubs: { bus }, bindings: { tick } }).map((t) =>
      t.kind === 'pubsub' ? { ...t, deadLetterTopic: `${topic}-dead` } : t,
    );
    delivery = await deliverTo(triggers, server.url);
  });

  afterAll(async () => {
    await delivery?.close();
    await api?.close();
    await bus?.close();
    await tick?.close();
    await server?.close();
  });

  const publish = async (body: unknown) => {
    const res = await fetch(`${apiUrl}/v1.0/publish/bus/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(204);
  };

  it('the spec derives the async runtime and the input the framework routes', () => {
    expect(fn.context.runtime).toBe('async');
    expect(fn.context.inputs).toEqual({
      orders: { componentName: 'bus', componentType: 'pubsub.in-memory', uri: topic },
      tick: { componentName: 'tick', componentType: 'bindings.cron', uri: 'tick' },
    });
  });

  it('a cron binding ticks into (ctx, data) through POST /tick, acked each time', async () => {
    await until('two cron ticks', () => delivery.counts().tick!.delivered >= 2 || undefined);
    expect(seen.filter((s) => s.input === 'tick').length).toBeGreaterThanOrEqual(2);
    expect(delivery.counts().tick).toMatchObject({ failed: 0, dropped: 0 });
  });

  it('a message published through the Dapr API reaches (ctx, data) with its data unwrapped and the input named', async () => {
    await publish({ orderId: 1, items: ['tea'] });
    await until('the delivery', () => delivery.counts().orders!.delivered === 1 || undefined);
    expect(seen.filter((s) => s.input === 'orders')).toEqual([
      { input: 'orders', data: { orderId: 1, items: ['tea'] } },
    ]);
    expect(delivery.counts().orders).toMatchObject({ delivered: 1, failed: 0, dropped: 0, inFlight: 0 });
  });

  it('a function that throws is retried, then dead-lettered with the reason; the others go through', async () => {
    seen.length = 0;
    await publish({ poison: true, orderId: 2 });
    for (let i = 3; i < 8; i++) await publish({ orderId: i });
    await until(
      'the dead letter and 5 more',
      () => (dead.length === 1 && delivery.counts().orders!.delivered === 6) || undefined,
    );
    const orders = seen.filter((s) => s.input === 'orders');
    expect(orders.filter((s) => (s.data as { poison?: boolean }).poison)).toHaveLength(3);
    expect(
      orders
        .filter((s) => !(s.data as { poison?: boolean }).poison)
        .map((s) => (s.data as { orderId: number }).orderId)
        .sort(),
    ).toEqual([3, 4, 5, 6, 7]);
    const ce = JSON.parse(Buffer.from(dead[0]!.data).toString());
    expect(ce).toMatchObject({
      source: 'checkout',
      type: 'com.dapr.event.sent',
      data: { poison: true, orderId: 2 },
    });
    expect(dead[0]!.metadata[DEAD_LETTER_METADATA.reason]).toMatch(
      /status RETRY \(SPROUT_ERR_FRAMEWORK_FUNCTION_FAILED\)/,
    );
    expect(delivery.counts().orders).toMatchObject({ failed: 3, retried: 2, deadLettered: 1, inFlight: 0 });
    expect((await delivery.lag()).orders).toBe(0);
  });
});
