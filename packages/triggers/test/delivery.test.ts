// The delivery engine on the in-memory broker against a real node:http app: Dapr's envelope, the
// app's answers, retries, dead letters, in-flight bounds, cold targets and close.
import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_METADATA,
  FunctionDelivery,
  isTriggersError,
  type DeliveryOptions,
  type InputBindingEngine,
  type PubSubEngine,
  type PubSubTrigger,
  type Subscription,
} from '../src/index.js';
import type { InMemoryPubSub } from '../src/engines/in-memory.js';
import { collect, gate, until } from './delivery-app.js';
import { enc, log, publishDapr as publishOn, useDeliveryHarness } from './delivery-harness.js';

const { app, unique, track, memoryBus, start: startOn } = useDeliveryHarness('delivery');
let bus: InMemoryPubSub;

/** Publishes what daprd would put on the broker for a JSON body sent to the publish API. */
const publishDapr = (topic: string, data: unknown, engine: PubSubEngine = bus) =>
  publishOn(engine, topic, data);

const start = (trigger: Partial<PubSubTrigger> & { topic: string }, options: Partial<DeliveryOptions> = {}) =>
  startOn(bus, trigger, options);

/** A dead-letter reader on the bus, closed after the test. */
async function dlqOf(topic: string) {
  const c = await collect(bus, topic);
  track(c.sub);
  return c;
}

describe('the envelope the app gets', () => {
  it("a Dapr-published message arrives as daprd sends it: application/cloudevents+json to the app's route, trace continued", async () => {
    bus = memoryBus();
    const topic = unique('envelope');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/orders-in' }];
    const t = await start({ topic });
    const ce = await publishDapr(topic, { orderId: 7 });
    await until(() => t.counts().delivered === 1, 'the delivery');
    expect(app.received).toHaveLength(1);
    const r = app.received[0]!;
    expect(r.path).toBe('/orders-in');
    expect(r.headers['content-type']).toBe('application/cloudevents+json');
    expect(r.json).toMatchObject({
      id: ce.id,
      source: 'publisher',
      type: 'com.dapr.event.sent',
      specversion: '1.0',
      datacontenttype: 'application/json',
      topic,
      pubsubname: 'bus',
      data: { orderId: 7 },
    });
    expect(r.json.traceparent).toBe(ce.traceparent);
    expect(r.json.traceid).toBe(ce.traceparent);
    expect(r.headers.traceparent).toBe(ce.traceparent);
    expect(await t.lag()).toBe(0);
  });

  it('rawPayload "true": the bytes as they were published, in a new event as data_base64', async () => {
    bus = memoryBus();
    const topic = unique('raw');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: 'raw', metadata: { rawPayload: 'true' } }];
    const t = await start({ topic });
    const bytes = new Uint8Array([0, 1, 2, 255, 10, 13]);
    await bus.publish(topic, bytes);
    await until(() => t.counts().delivered === 1, 'the delivery');
    const r = app.received[0]!;
    expect(r.path).toBe('/raw');
    expect(r.json).toMatchObject({
      specversion: '1.0',
      datacontenttype: 'application/octet-stream',
      source: 'Dapr',
      type: 'com.dapr.event.sent',
      topic,
      pubsubname: 'bus',
      data_base64: Buffer.from(bytes).toString('base64'),
    });
    expect(r.json.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a declarative route and rawPayload on the trigger win over the app; fields a publisher left out are filled', async () => {
    bus = memoryBus();
    const topic = unique('declared');
    const t = await start({ topic, route: '/declared', metadata: { rawPayload: 'false' } });
    await bus.publish(topic, enc('{"id":"x1","data":"hi"}'));
    await until(() => t.counts().delivered === 1, 'the delivery');
    expect(app.received[0]!.path).toBe('/declared');
    expect(app.received[0]!.json).toMatchObject({
      id: 'x1',
      data: 'hi',
      source: 'Dapr',
      type: 'com.dapr.event.sent',
      specversion: '1.0',
      topic,
      pubsubname: 'bus',
    });
    expect(app.received[0]!.json.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe("the app's answer", () => {
  it.each([
    ['200 {"status":"SUCCESS"}', 200, '{"status":"SUCCESS"}', 'delivered'],
    ['200 with no body', 200, '', 'delivered'],
    ['204', 204, '', 'delivered'],
    ['200 with a body that is not JSON', 200, 'ok', 'delivered'],
    ['200 {"status":"success"} (any case)', 200, '{"status":"success"}', 'delivered'],
    ['200 {"status":"DROP"}', 200, '{"status":"DROP"}', 'dropped'],
    ['404', 404, 'no route', 'dropped'],
  ] as const)('%s: %s', async (_name, status, body, counter) => {
    bus = memoryBus();
    const topic = unique('answer');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    app.answer = (_r, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    const dlq = await dlqOf(`${topic}-dlq`);
    const t = await start({ topic, deadLetterTopic: `${topic}-dlq` });
    await publishDapr(topic, { a: 1 });
    await until(() => t.counts()[counter] === 1, counter);
    expect(t.counts()).toMatchObject({ failed: 0, retried: 0, deadLettered: 0, inFlight: 0 });
    expect(app.received).toHaveLength(1);
    expect(dlq.got).toHaveLength(0);
    expect(await t.lag()).toBe(0);
  });

  it.each([
    ['500', 500, '{}'],
    ['200 {"status":"RETRY"}', 200, '{"status":"RETRY"}'],
    ['200 with an unknown status', 200, '{"status":"MAYBE"}'],
    ['429', 429, ''],
  ] as const)('%s is retried, then succeeds', async (_name, status, body) => {
    bus = memoryBus();
    const topic = unique('retry');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    let calls = 0;
    app.answer = (_r, res) => {
      if (++calls <= 2) res.writeHead(status).end(body);
      else res.writeHead(200).end('{"status":"SUCCESS"}');
    };
    const t = await start({ topic });
    await publishDapr(topic, { a: 1 });
    await until(() => t.counts().delivered === 1, 'the delivery');
    expect(t.counts()).toMatchObject({ delivered: 1, failed: 2, retried: 2, deadLettered: 0 });
    expect(new Set(app.received.map((r) => r.json.id)).size).toBe(1);
  });

  it('a timeout is a failed attempt: retried, then dead-lettered with the reason; the payload kept', async () => {
    bus = memoryBus();
    const topic = unique('timeout');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    const hang = gate();
    app.answer = async (_r, res) => {
      await hang.promise;
      res.end();
    };
    const dlq = await dlqOf(`${topic}-dlq`);
    const t = await start(
      { topic, deadLetterTopic: `${topic}-dlq` },
      { timeoutMs: 50, retry: { maxRetries: 1, duration: '1ms' } },
    );
    const ce = await publishDapr(topic, { slow: true });
    await until(() => dlq.got.length === 1, 'the dead letter');
    hang.open();
    expect(t.counts()).toMatchObject({ delivered: 0, failed: 2, retried: 1, deadLettered: 1, inFlight: 0 });
    const dead = dlq.got[0]!;
    expect(JSON.parse(Buffer.from(dead.data).toString())).toEqual(ce);
    expect(dead.metadata[DEAD_LETTER_METADATA.reason]).toMatch(/no answer within 50 ms/);
    expect(dead.metadata[DEAD_LETTER_METADATA.code]).toBe('SPROUT_ERR_TRIGGERS_DELIVERY_FAILED');
    expect(dead.metadata[DEAD_LETTER_METADATA.topic]).toBe(topic);
    expect(dead.metadata[DEAD_LETTER_METADATA.attempts]).toBe('2');
    expect(await t.lag()).toBe(0);
  });

  it('the app not subscribing to the topic is a failure, dead-lettered after the retries', async () => {
    bus = memoryBus();
    const topic = unique('unsubscribed');
    app.subscriptions = [{ pubsubname: 'bus', topic: 'something-else', route: '/x' }];
    const dlq = await dlqOf(`${topic}-dlq`);
    const t = await start({ topic, deadLetterTopic: `${topic}-dlq` });
    await publishDapr(topic, {});
    await until(() => dlq.got.length === 1, 'the dead letter');
    expect(app.received).toHaveLength(0);
    expect(dlq.got[0]!.metadata[DEAD_LETTER_METADATA.reason]).toMatch(/does not subscribe to bus\//);
    expect(t.counts()).toMatchObject({ failed: 3, retried: 2, deadLettered: 1 });
  });

  it("the dead-letter topic may come from the app's /dapr/subscribe", async () => {
    bus = memoryBus();
    const topic = unique('app-dlq');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in', deadLetterTopic: `${topic}-dead` }];
    app.answer = (_r, res) => res.writeHead(500).end();
    const dlq = await dlqOf(`${topic}-dead`);
    const t = await start({ topic }, { retry: { maxRetries: 0 } });
    await publishDapr(topic, {});
    await until(() => dlq.got.length === 1, 'the dead letter');
    expect(t.counts()).toMatchObject({ failed: 1, retried: 0, deadLettered: 1 });
  });
});

describe('nothing lost, nothing blocked', () => {
  it('without a dead-letter topic a failing message goes back to the broker and is delivered when the app recovers', async () => {
    bus = memoryBus();
    const topic = unique('requeue');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    let calls = 0;
    app.answer = (_r, res) => res.writeHead(++calls <= 3 ? 503 : 200).end();
    const t = await start({ topic }, { retry: { policy: 'constant', duration: '5ms', maxRetries: 0 } });
    await publishDapr(topic, { keep: 'me' });
    await until(() => t.counts().delivered === 1, 'the delivery');
    expect(t.counts()).toMatchObject({ delivered: 1, failed: 3, requeued: 3, deadLettered: 0, dropped: 0 });
    expect(app.received.every((r) => r.json.data.keep === 'me')).toBe(true);
  });

  it('a poison message holds one slot; the other messages are all delivered meanwhile', async () => {
    bus = memoryBus();
    const topic = unique('poison');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    const held = gate();
    app.answer = async (r, res) => {
      if (r.json.data.poison) {
        await held.promise;
        res.writeHead(500).end();
      } else res.writeHead(200).end();
    };
    const dlq = await dlqOf(`${topic}-dlq`);
    const t = await start(
      { topic, deadLetterTopic: `${topic}-dlq` },
      { maxInFlight: 2, retry: { maxRetries: 0 } },
    );
    await publishDapr(topic, { poison: true });
    for (let i = 0; i < 20; i++) await publishDapr(topic, { i });
    await until(() => t.counts().delivered === 20, 'the 20 good messages');
    expect(t.counts()).toMatchObject({ inFlight: 1, deadLettered: 0 });
    held.open();
    await until(() => dlq.got.length === 1, 'the poison message in the dead-letter topic');
    expect(JSON.parse(Buffer.from(dlq.got[0]!.data).toString()).data).toEqual({ poison: true });
    expect(t.counts()).toMatchObject({ delivered: 20, deadLettered: 1, inFlight: 0 });
  });

  it('never more than maxInFlight at the app; the rest wait in the broker', async () => {
    bus = memoryBus();
    const topic = unique('bound');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    const release = app.hold();
    const t = await start({ topic }, { maxInFlight: 3 });
    for (let i = 0; i < 10; i++) await publishDapr(topic, { i });
    await until(() => app.active === 3, 'three at the app');
    expect(t.counts().inFlight).toBe(3);
    expect(await t.lag()).toBe(10);
    release();
    await until(() => t.counts().delivered === 10, 'all ten');
    expect(app.maxActive).toBe(3);
    expect(app.received.map((r) => r.json.data.i).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });

  it('a cold target holds the first message until an instance is ready; nothing is dropped', async () => {
    bus = memoryBus();
    const topic = unique('cold');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    const ready = gate();
    let asked = 0;
    const target = {
      url: async () => {
        asked++;
        await ready.promise;
        return app.url;
      },
    };
    const t = await start({ topic }, { target });
    await publishDapr(topic, { first: true });
    await until(() => asked === 1 && t.counts().inFlight === 1, 'the held message');
    expect(app.received).toHaveLength(0);
    ready.open();
    await until(() => t.counts().delivered === 1, 'the delivery');
    expect(app.received[0]!.json.data).toEqual({ first: true });
    expect(t.counts()).toMatchObject({ failed: 0, dropped: 0 });
  });

  it('64 messages held for a cold target raise no process warning (listeners on the stop signal)', async () => {
    bus = memoryBus();
    const topic = unique('cold-many');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const ready = gate();
      const target = { url: () => ready.promise.then(() => app.url) };
      const t = await start({ topic }, { target, maxInFlight: 64 });
      for (let i = 0; i < 64; i++) await publishDapr(topic, { i });
      await until(() => t.counts().inFlight === 64, 'all 64 held');
      ready.open();
      await until(() => t.counts().delivered === 64, 'all 64 delivered');
      await new Promise((r) => setImmediate(r)); // a warning is emitted on the next tick
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('close does not wait for a target that never becomes ready; the held message goes back', async () => {
    bus = memoryBus();
    const topic = unique('never-ready');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    const t = await start({ topic }, { target: { url: () => new Promise<string>(() => {}) } });
    await publishDapr(topic, { waiting: true });
    await until(() => t.counts().inFlight === 1, 'the held message');
    await t.close();
    expect(t.counts()).toMatchObject({ delivered: 0, failed: 0, requeued: 1, inFlight: 0 });
    app.answer = (_r, res) => res.writeHead(200).end();
    const next = await start({ topic });
    await until(() => next.counts().delivered === 1, 'the message, to the next subscriber');
  });

  it('close hands what is in flight back to the broker; the next subscriber gets it', async () => {
    bus = memoryBus();
    const topic = unique('close');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    const release = app.hold();
    const first = await start({ topic });
    await publishDapr(topic, { again: 1 });
    await until(() => app.active === 1, 'the delivery at the app');
    await first.close();
    expect(first.counts()).toMatchObject({ delivered: 0, failed: 0, requeued: 1, inFlight: 0 });
    release();
    app.answer = (_r, res) => res.writeHead(200).end();
    const second = await start({ topic });
    await until(() => second.counts().delivered === 1, 'the redelivery');
    expect(app.received.at(-1)!.json.data).toEqual({ again: 1 });
  });

  it('a message the broker has delivered more times than the retries allow goes to the dead-letter topic unseen', async () => {
    bus = memoryBus();
    const topic = unique('killer');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    const release = app.hold();
    const dlq = await dlqOf(`${topic}-dlq`);
    // Each subscriber "dies" while the app handles the message: the broker counts the attempts.
    // maxRetries 1 is two attempts; the third delivery is past the budget.
    for (let i = 0; i < 2; i++) {
      const t = await start({ topic, deadLetterTopic: `${topic}-dlq` }, { retry: { maxRetries: 1 } });
      if (i === 0) await publishDapr(topic, { kills: 'the instance' });
      await until(() => app.received.length === i + 1, `attempt ${i + 1}`);
      await t.close();
    }
    const last = await start({ topic, deadLetterTopic: `${topic}-dlq` }, { retry: { maxRetries: 1 } });
    await until(() => dlq.got.length === 1, 'the dead letter');
    release();
    expect(app.received).toHaveLength(2);
    expect(dlq.got[0]!.metadata[DEAD_LETTER_METADATA.reason]).toBe(
      'delivered 2 times by the broker without an ack',
    );
    expect(last.counts()).toMatchObject({ deadLettered: 1, failed: 0 });
  });
});

describe('routing rules (Subscription v2alpha1 routes.rules)', () => {
  it('declarative rules pick the path by the event; no match goes to the default route', async () => {
    bus = memoryBus();
    const topic = unique('rules');
    const t = await start({
      topic,
      route: '/small',
      rules: [
        { match: 'event.data.size == "big" && event.data.n > 1', path: '/big' },
        { match: 'event.type == "com.dapr.event.sent" && has(event.data.urgent)', path: 'urgent' },
      ],
    });
    await publishDapr(topic, { size: 'big', n: 2 });
    await publishDapr(topic, { urgent: 1 });
    await publishDapr(topic, { size: 'small' });
    await until(() => t.counts().delivered === 3, 'three deliveries');
    expect(app.received.map((r) => r.path).sort()).toEqual(['/big', '/small', '/urgent']);
  });

  it("the app's /dapr/subscribe rules are evaluated; no match and no default is dropped, as daprd does", async () => {
    bus = memoryBus();
    const topic = unique('app-rules');
    app.subscriptions = [
      { pubsubname: 'bus', topic, routes: { rules: [{ match: 'event.data.keep == true', path: '/kept' }] } },
    ];
    const t = await start({ topic });
    await publishDapr(topic, { keep: true });
    await publishDapr(topic, { keep: false });
    await until(() => t.counts().delivered === 1 && t.counts().dropped === 1, 'one kept, one dropped');
    expect(app.received.map((r) => r.path)).toEqual(['/kept']);
  });

  it('a rawPayload that is not a boolean is refused at start', async () => {
    bus = memoryBus();
    const err = await start({ topic: unique('bad-raw'), metadata: { rawPayload: 'yes' } }).catch(
      (e: unknown) => e,
    );
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID')).toBe(true);
    expect((err as { field?: string }).field).toBe('metadata.rawPayload');
  });

  it('a declarative rule Sprout cannot evaluate is refused at start, naming it', async () => {
    bus = memoryBus();
    const err = await start({
      topic: unique('bad-rule'),
      rules: [{ match: 'event.type in ["a"]', path: '/a' }],
    }).catch((e: unknown) => e);
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_MATCH_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toContain('event.type in');
  });
});

describe('payloads that cannot be delivered', () => {
  it('not a CloudEvent (not JSON) goes to the dead-letter topic at once, without calling the app', async () => {
    bus = memoryBus();
    const topic = unique('malformed');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    const dlq = await dlqOf(`${topic}-dlq`);
    const t = await start({ topic, deadLetterTopic: `${topic}-dlq` });
    await bus.publish(topic, enc('not json {'));
    await publishDapr(topic, { fine: true });
    await until(() => dlq.got.length === 1 && t.counts().delivered === 1, 'both');
    expect(dlq.got[0]!.metadata[DEAD_LETTER_METADATA.code]).toBe('SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID');
    expect(Buffer.from(dlq.got[0]!.data).toString()).toBe('not json {');
    expect(app.received).toHaveLength(1);
    expect(t.counts()).toMatchObject({ failed: 0, retried: 0, deadLettered: 1 });
  });

  it('without a dead-letter topic it is dropped (acked) with a warning, and an expired event is dropped unseen', async () => {
    bus = memoryBus();
    const topic = unique('dropped');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in' }];
    const t = await start({ topic });
    await bus.publish(topic, enc('[1,2,3]'));
    await bus.publish(topic, enc(JSON.stringify({ id: 'old', data: 1, expiration: '2000-01-01T00:00:00Z' })));
    await until(() => t.counts().dropped === 2, 'both dropped');
    expect(app.received).toHaveLength(0);
    expect(await t.lag()).toBe(0);
  });
});

/** An input binding over the in-memory broker: each message on `topic` is one binding event. */
class TopicBinding implements InputBindingEngine {
  readonly type = 'bindings.test-topic';
  constructor(
    private readonly engine: PubSubEngine,
    private readonly topic: string,
  ) {}
  read(options: Parameters<InputBindingEngine['read']>[0]): Promise<Subscription> {
    return this.engine.subscribe({ ...options, topic: this.topic, group: 'binding' });
  }
  async close(): Promise<void> {}
}

describe('input bindings', () => {
  it('POSTs the bytes to /<binding name> with the metadata as headers; a non-2xx is retried', async () => {
    bus = memoryBus();
    const topic = unique('binding');
    let calls = 0;
    app.answer = (_r, res) => res.writeHead(++calls === 1 ? 500 : 200).end();
    const fn = await FunctionDelivery.start(
      [{ kind: 'binding', name: 'cron-in', engine: new TopicBinding(bus, topic) }],
      { target: app.target(), maxInFlight: 1, retry: { duration: '1ms' }, log },
    );
    track(fn);
    await bus.publish(topic, enc('{"tick":1}'), { 'x-origin': 'test', 'bad header': 'skipped' });
    await until(() => fn.counts()['cron-in']!.delivered === 1, 'the binding event');
    expect(app.received).toHaveLength(2);
    const r = app.received[1]!;
    expect(r.path).toBe('/cron-in');
    expect(r.body.toString()).toBe('{"tick":1}');
    expect(r.headers['x-origin']).toBe('test');
    expect(r.headers['content-type']).toBe('application/json');
    expect(fn.counts()['cron-in']).toMatchObject({ delivered: 1, failed: 1, retried: 1 });
    expect(fn.counts()['cron-in']!.latency.count).toBe(1);
    expect(await fn.lag()).toEqual({ 'cron-in': 0 });
  });
});
