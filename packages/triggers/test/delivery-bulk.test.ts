// Bulk delivery (Dapr's bulk subscribe) on the in-memory broker, real Redis Streams and real NATS
// JetStream, against a real node:http app: batches of what the broker has ready, per-entry
// settlement (SUCCESS, DROP, RETRY, missing), a failed request, a dead-lettered entry, the
// in-flight bound, rawPayload entries, a declarative Subscription's bulkSubscribe.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_METADATA, openPubSub, type PubSubEngine } from '../src/index.js';
import { collect, until, type Received } from './delivery-app.js';
import { enc, useDeliveryHarness } from './delivery-harness.js';

const BULK = { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 1000 };

const { app, unique, track, memoryBus, start } = useDeliveryHarness('bulk', {
  answer: (_r, res) => res.writeHead(200).end(),
});
let bus: PubSubEngine;

const event = (i: number) =>
  enc(JSON.stringify({ id: `e-${i}`, specversion: '1.0', source: 't', type: 't.e', data: { i } }));

interface Entry {
  entryId: string;
  event: any;
  contentType: string;
  metadata: Record<string, string>;
}
const entriesOf = (r: Received): Entry[] => (r.json?.entries ?? []) as Entry[];
const allEntries = () => app.received.flatMap(entriesOf);
/** Answers each entry by `decide(data.i, attempt of that i)`; undefined leaves its status out. */
function answerBy(decide: (i: number, attempt: number) => string | undefined) {
  const seen = new Map<number, number>();
  app.answer = (r, res) => {
    const statuses = entriesOf(r).flatMap((e) => {
      const i = e.event.data.i as number;
      seen.set(i, (seen.get(i) ?? 0) + 1);
      const status = decide(i, seen.get(i)!);
      return status === undefined ? [] : [{ entryId: e.entryId, status }];
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ statuses }));
  };
  return seen;
}

describe('bulk delivery on the in-memory broker', () => {
  it("what the broker has ready goes in one request, in daprd's bulk envelope", async () => {
    bus = memoryBus();
    const topic = unique('envelope');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in', bulkSubscribe: BULK }];
    // The group exists before publishing (in-memory keeps messages per group), then a subscriber.
    const first = await start(bus, { topic }, { maxInFlight: 1 });
    await first.close();
    for (let i = 0; i < 8; i++) await bus.publish(topic, event(i), { k: `v${i}` });
    answerBy(() => 'SUCCESS');
    const t = await start(bus, { topic }, { maxInFlight: 16 });
    await until(() => t.counts().delivered === 8, 'eight delivered');
    expect(app.received).toHaveLength(1);
    const r = app.received[0]!;
    expect(r.path).toBe('/in');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.json).toMatchObject({ type: 'com.dapr.event.sent.bulk', topic, pubsubname: 'bus' });
    expect(typeof r.json.id).toBe('string');
    const entries = entriesOf(r);
    expect(entries.map((e) => e.event.data.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(entries.map((e) => e.entryId)).size).toBe(8);
    expect(entries[3]).toMatchObject({
      contentType: 'application/cloudevents+json',
      metadata: { k: 'v3' },
      event: { id: 'e-3', topic, pubsubname: 'bus', specversion: '1.0', data: { i: 3 } },
    });
    expect(await t.lag()).toBe(0);
  });

  it('a message alone is sent at once, not held for maxAwaitDurationMs', async () => {
    bus = memoryBus();
    const topic = unique('alone');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in', bulkSubscribe: { enabled: true } }];
    answerBy(() => 'SUCCESS');
    const t = await start(bus, { topic });
    await bus.publish(topic, event(1));
    // Dapr's default wait is 1000 ms: the delivery must come well before.
    await until(() => t.counts().delivered === 1, 'the delivery', 500);
    expect(entriesOf(app.received[0]!)).toHaveLength(1);
  });

  it('per entry: SUCCESS acks, DROP acks, RETRY and a missing status retry that entry alone', async () => {
    bus = memoryBus();
    const topic = unique('mixed');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in', bulkSubscribe: BULK }];
    const seen = answerBy((i, attempt) => {
      if (attempt > 1) return 'SUCCESS';
      return ['SUCCESS', 'DROP', 'RETRY', undefined, 'success', 'BOGUS', ''][i % 7];
    });
    const t = await start(bus, { topic }, { maxInFlight: 14 });
    for (let i = 0; i < 14; i++) await bus.publish(topic, event(i));
    await until(() => t.counts().delivered + t.counts().dropped === 14, 'all settled');
    const c = t.counts();
    // i % 7: 0 and 4 succeed, 1 dropped; 2 (RETRY), 3 (missing), 5 (unknown), 6 (empty) retried once.
    expect(c.dropped).toBe(2);
    expect(c.delivered).toBe(12);
    expect(c.failed).toBe(8);
    expect(c.retried).toBe(8);
    for (let i = 0; i < 14; i++) expect(seen.get(i)).toBe([2, 3, 5, 6].includes(i % 7) ? 2 : 1);
    expect(await t.lag()).toBe(0);
  });

  it('a failed request (500, a body that is not the bulk answer, no answer) fails every entry once', async () => {
    bus = memoryBus();
    const topic = unique('failed');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in', bulkSubscribe: BULK }];
    const bad = [
      (res: ServerResponse) => res.writeHead(500).end('{"statuses":[]}'),
      (res: ServerResponse) => res.writeHead(200).end('{"status":"SUCCESS"}'),
      (res: ServerResponse) => res.destroy(),
    ];
    let calls = 0;
    const good = answerBy(() => 'SUCCESS');
    const ok = app.answer;
    app.answer = (r, res) => (calls < bad.length ? void bad[calls++]!(res) : ok(r, res));
    const t = await start(bus, { topic }, { retry: { duration: '20ms', maxRetries: 5 } });
    await bus.publish(topic, event(0));
    await bus.publish(topic, event(1));
    await until(() => t.counts().delivered === 2, 'both delivered');
    expect(calls).toBe(3);
    // Each failed request counts one failed attempt per entry in it.
    const entriesInFailed = app.received.slice(0, 3).reduce((s, r) => s + entriesOf(r).length, 0);
    expect(t.counts().failed).toBe(entriesInFailed);
    expect(good.get(0)).toBe(1);
    expect(good.get(1)).toBe(1);
  });

  it('404 drops every entry of the request, as daprd does', async () => {
    bus = memoryBus();
    const topic = unique('404');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in', bulkSubscribe: BULK }];
    app.answer = (_r, res) => res.writeHead(404).end();
    const t = await start(bus, { topic });
    for (let i = 0; i < 3; i++) await bus.publish(topic, event(i));
    await until(() => t.counts().dropped === 3, 'three dropped');
    expect(t.counts().delivered).toBe(0);
  });

  it('an entry that always answers RETRY is dead-lettered alone; the rest are delivered', async () => {
    bus = memoryBus();
    const topic = unique('poison');
    const dlq = await collect(bus, `${topic}-dead`);
    track(dlq.sub);
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in', bulkSubscribe: BULK }];
    const seen = answerBy((i) => (i === 5 ? 'RETRY' : 'SUCCESS'));
    const t = await start(bus, { topic, deadLetterTopic: `${topic}-dead` });
    for (let i = 0; i < 10; i++) await bus.publish(topic, event(i));
    await until(() => t.counts().deadLettered === 1 && t.counts().delivered === 9, 'nine and a dead letter');
    expect(seen.get(5)).toBe(3);
    expect(dlq.got).toHaveLength(1);
    expect(JSON.parse(Buffer.from(dlq.got[0]!.data).toString()).id).toBe('e-5');
    expect(dlq.got[0]!.metadata[DEAD_LETTER_METADATA.attempts]).toBe('3');
    expect(dlq.got[0]!.metadata[DEAD_LETTER_METADATA.code]).toBe('SPROUT_ERR_TRIGGERS_DELIVERY_FAILED');
  });

  it('the in-flight bound holds: never more entries out than maxInFlight', async () => {
    bus = memoryBus();
    const topic = unique('bound');
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in', bulkSubscribe: BULK }];
    let out = 0;
    let most = 0;
    const held: (() => void)[] = [];
    app.answer = (r, res) => {
      const entries = entriesOf(r);
      out += entries.length;
      most = Math.max(most, out);
      held.push(() => {
        out -= entries.length;
        const statuses = entries.map((e) => ({ entryId: e.entryId, status: 'SUCCESS' }));
        res.writeHead(200).end(JSON.stringify({ statuses }));
      });
    };
    const t = await start(bus, { topic }, { maxInFlight: 4 });
    for (let i = 0; i < 20; i++) await bus.publish(topic, event(i));
    await until(() => held.length > 0, 'a request');
    await new Promise((r) => setTimeout(r, 50));
    expect(t.counts().inFlight).toBe(4);
    expect(await t.lag()).toBe(20);
    while (t.counts().delivered < 20) {
      for (const h of held.splice(0)) h();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(most).toBeLessThanOrEqual(4);
    expect(most).toBeGreaterThan(1);
  });

  it('rawPayload: entries carry the bytes in base64 as application/octet-stream, as daprd sends them', async () => {
    bus = memoryBus();
    const topic = unique('raw');
    app.subscriptions = [
      { pubsubname: 'bus', topic, route: '/raw', metadata: { rawPayload: 'true' }, bulkSubscribe: BULK },
    ];
    app.answer = (r, res) =>
      res
        .writeHead(200)
        .end(
          JSON.stringify({ statuses: entriesOf(r).map((e) => ({ entryId: e.entryId, status: 'SUCCESS' })) }),
        );
    const t = await start(bus, { topic });
    const bytes = new Uint8Array([0, 1, 2, 255, 10]);
    await bus.publish(topic, bytes, { m: '1' });
    await until(() => t.counts().delivered === 1, 'the delivery');
    const [e] = allEntries();
    expect(e).toMatchObject({ contentType: 'application/octet-stream', metadata: { m: '1' } });
    expect(Buffer.from(e!.event as string, 'base64')).toEqual(Buffer.from(bytes));
  });

  it("a declarative Subscription's bulkSubscribe (maxMessagesCount 3) bounds each request", async () => {
    bus = memoryBus();
    const topic = unique('declarative');
    const first = await start(bus, { topic, route: '/x' }, { maxInFlight: 1 });
    await first.close();
    for (let i = 0; i < 10; i++) await bus.publish(topic, event(i));
    answerBy(() => 'SUCCESS');
    const t = await start(bus, {
      topic,
      route: '/decl',
      bulkSubscribe: { enabled: true, maxMessagesCount: 3 },
    });
    await until(() => t.counts().delivered === 10, 'ten delivered');
    expect(app.received.every((r) => r.path === '/decl' && entriesOf(r).length <= 3)).toBe(true);
    expect(app.received.some((r) => entriesOf(r).length === 3)).toBe(true);
  });
});

const brokers = [
  {
    label: 'real Redis Streams',
    open: (name: string) =>
      openPubSub({
        name,
        type: 'pubsub.redis',
        metadata: { redisHost: process.env.SPROUT_TEST_REDIS ?? '127.0.0.1:6379' },
      }),
  },
  {
    label: 'real NATS JetStream',
    open: (name: string) =>
      openPubSub({ name, type: 'pubsub.jetstream', metadata: { natsURL: 'nats://127.0.0.1:4222' } }),
  },
];

describe.each(brokers)('bulk delivery on $label', ({ open: openBroker }) => {
  it('30 messages in bulk, one dead-lettered alone on the same broker, one retried once; lag back to 0', async () => {
    bus = track(await openBroker('bus'));
    const topic = unique('broker');
    const dlq = await collect(bus, `${topic}-dead`, `dlq-${topic}`);
    track(dlq.sub);
    app.subscriptions = [{ pubsubname: 'bus', topic, route: '/in', bulkSubscribe: BULK }];
    const seen = answerBy((i, attempt) =>
      i === 7 ? 'RETRY' : i === 3 && attempt === 1 ? 'RETRY' : 'SUCCESS',
    );
    for (let i = 0; i < 30; i++) await bus.publish(topic, event(i));
    const t = await start(
      bus,
      { topic, group: `g-${topic}`, deadLetterTopic: `${topic}-dead` },
      { maxInFlight: 16 },
    );
    await until(
      () => t.counts().delivered === 29 && t.counts().deadLettered === 1 && dlq.got.length === 1,
      '29 delivered and a dead letter',
      20_000,
    );
    expect(t.counts().deadLettered).toBe(1);
    expect(seen.get(3)).toBe(2);
    expect(seen.get(7)).toBe(3);
    expect(JSON.parse(Buffer.from(dlq.got[0]!.data).toString()).id).toBe('e-7');
    expect(app.received.some((r) => entriesOf(r).length > 1)).toBe(true);
    await until(() => t.counts().inFlight === 0, 'settled');
    expect(await t.lag()).toBe(0);
  });
});
