// Bad input while two functions are subscribed on the real NATS JetStream: a malformed payload, an
// oversized message, an unknown topic or pub/sub at the Dapr publish API, invalid component metadata.
// Each is a coded error (or Dapr's own answer) and the other function keeps receiving, counted.
import { connect as nats } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import {
  createDaprApiServer,
  DEAD_LETTER_METADATA,
  FunctionDelivery,
  openPubSub,
  type DaprApiServer,
  type PubSubEngine,
} from '../src/index.js';
import { collect, DeliveryApp, until } from './delivery-app.js';

const log = createLogger({ level: 'silent' });
const run = `${process.pid}-${Date.now().toString(36)}`;
const topicA = `sprout-bad-a-${run}`;
const topicB = `sprout-bad-b-${run}`;
const dead = `${topicA}-dead`;
const unknown = `sprout-bad-nobody-${run}`;
const component = { type: 'pubsub.jetstream', metadata: { natsURL: 'nats://127.0.0.1:4222', ackWait: '2s' } };

let app: DeliveryApp;
let bus: PubSubEngine;
let api: DaprApiServer;
let url: string;
let a: FunctionDelivery;
let b: FunctionDelivery;
let deadLetters: Awaited<ReturnType<typeof collect>>;

const publish = (topic: string, body: string | Buffer, pubsub = 'bus') =>
  fetch(`${url}/v1.0/publish/${pubsub}/${topic}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
const received = (route: string) => app.received.filter((r) => r.path === route).map((r) => r.json.data);
const reason = (body: any) => body?.details?.[0]?.reason;

/** B still gets what is published to it after the bad input: one more message, delivered. */
async function bKeepsReceiving(n: number): Promise<void> {
  expect((await publish(topicB, JSON.stringify({ b: n }))).status).toBe(204);
  await until(() => b.counts().b!.delivered === n, `B's message ${n}`);
  expect(received('/b').at(-1)).toEqual({ b: n });
}

beforeAll(async () => {
  app = await DeliveryApp.start();
  bus = await openPubSub({ name: 'bus', ...component });
  api = createDaprApiServer({ pubsubs: { bus }, appId: 'bad-input' });
  ({ url } = await api.listen(0));
  deadLetters = await collect(bus, dead, 'ops');
  const start = (name: string, topic: string, route: string, deadLetterTopic?: string) =>
    FunctionDelivery.start(
      [
        {
          kind: 'pubsub',
          name,
          pubsubname: 'bus',
          engine: bus,
          topic,
          group: name,
          route,
          ...(deadLetterTopic ? { deadLetterTopic } : {}),
        },
      ],
      { target: app.target(), maxInFlight: 4, retry: { duration: '10ms', maxRetries: 1 }, log },
    );
  a = await start('a', topicA, '/a', dead);
  b = await start('b', topicB, '/b');
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await deadLetters?.sub.close();
  await api?.close();
  await bus?.close();
  await app?.close();
  const nc = await nats({ servers: '127.0.0.1:4222' });
  const jsm = await nc.jetstreamManager();
  for (const t of [topicA, topicB, dead, unknown])
    await jsm.streams.delete(t.replace(/[.*>\s/\\]/g, '_')).catch(() => {});
  await nc.close();
});

describe('bad input, another function subscribed beside it', () => {
  it('a malformed payload (not a CloudEvent, no rawPayload) is dead-lettered at once with its code; the next ones and B go through', async () => {
    await bus.publish(topicA, new TextEncoder().encode('{"not json'));
    expect((await publish(topicA, JSON.stringify({ a: 1 }))).status).toBe(204);
    await until(() => deadLetters.got.length === 1 && received('/a').length === 1, 'the dead letter and A 1');
    const d = deadLetters.got[0]!;
    expect(new TextDecoder().decode(d.data)).toBe('{"not json');
    expect(d.metadata[DEAD_LETTER_METADATA.code]).toBe('SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID');
    expect(d.metadata[DEAD_LETTER_METADATA.reason]).toMatch(/JSON/i);
    // Never POSTed to the app: it could not be, and retrying would fail the same way.
    expect(received('/a')).toEqual([{ a: 1 }]);
    await until(() => a.counts().a!.delivered === 1, "A's count");
    expect(a.counts().a).toMatchObject({ delivered: 1, deadLettered: 1, failed: 0 });
    await bKeepsReceiving(1);
  });

  it("a message over NATS' max_payload is refused with a coded error, as daprd answers (500 ERR_PUBSUB_PUBLISH_MESSAGE); one over the API's 4 MiB is 413", async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) });
    const r = await publish(topicA, big);
    expect(r.status).toBe(500);
    const body = await r.json();
    expect(body.errorCode).toBe('ERR_PUBSUB_PUBLISH_MESSAGE');
    expect(reason(body)).toBe('SPROUT_ERR_TRIGGERS_MESSAGE_TOO_LARGE');
    expect(body.message).toMatch(/max_payload of \d+ bytes/);
    await expect(bus.publish(topicA, new Uint8Array(2 * 1024 * 1024))).rejects.toMatchObject({
      code: 'SPROUT_ERR_TRIGGERS_MESSAGE_TOO_LARGE',
    });
    const huge = await publish(topicA, Buffer.alloc(5 * 1024 * 1024, 0x20));
    expect(huge.status).toBe(413);
    expect(reason(await huge.json())).toBe('SPROUT_ERR_TRIGGERS_BODY_TOO_LARGE');
    // Nothing of either reached the broker; both functions go on.
    expect((await publish(topicA, JSON.stringify({ a: 2 }))).status).toBe(204);
    await until(() => received('/a').some((d) => d?.a === 2), "A's message 2");
    expect(received('/a')).toEqual([{ a: 1 }, { a: 2 }]);
    await bKeepsReceiving(2);
  });

  it('an unknown topic is taken as daprd takes it (204, waiting in the broker for a subscriber); an unknown pub/sub is 404 ERR_PUBSUB_NOT_FOUND', async () => {
    expect((await publish(unknown, JSON.stringify({ lost: false }))).status).toBe(204);
    const late = await FunctionDelivery.start(
      [
        {
          kind: 'pubsub',
          name: 'late',
          pubsubname: 'bus',
          engine: bus,
          topic: unknown,
          group: 'late',
          route: '/late',
        },
      ],
      { target: app.target(), maxInFlight: 1, log },
    );
    try {
      // A subscriber that comes later still gets it: JetStream kept it (the consumer starts at the stream's start).
      await until(() => received('/late').length === 1, 'the message to the late subscriber');
      expect(received('/late')).toEqual([{ lost: false }]);
    } finally {
      await late.close();
    }
    const r = await publish(topicA, JSON.stringify({ a: 3 }), 'no-such-bus');
    expect(r.status).toBe(404);
    const body = await r.json();
    expect(body.errorCode).toBe('ERR_PUBSUB_NOT_FOUND');
    expect(reason(body)).toBe('SPROUT_ERR_TRIGGERS_PUBSUB_NOT_FOUND');
    await bKeepsReceiving(3);
  });

  it('invalid component metadata is refused when the component opens, naming the field; the open engine is untouched', async () => {
    await expect(
      openPubSub({
        name: 'broken',
        type: 'pubsub.jetstream',
        metadata: { natsURL: 'nats://127.0.0.1:4222', ackWait: 'soon' },
      }),
    ).rejects.toMatchObject({
      code: 'SPROUT_ERR_TRIGGERS_METADATA_INVALID',
      field: 'metadata.ackWait',
      message: expect.stringMatching(/component "broken".*ackWait.*soon/),
    });
    await expect(
      openPubSub({
        name: 'broken',
        type: 'pubsub.jetstream',
        metadata: { natsURL: 'nats://127.0.0.1:4222', ackwaiting: '1s' },
      }),
    ).rejects.toMatchObject({
      code: 'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED',
      field: 'metadata.ackwaiting',
    });
    await bKeepsReceiving(4);
    expect(b.counts().b).toMatchObject({ delivered: 4, failed: 0, deadLettered: 0 });
  });
});
