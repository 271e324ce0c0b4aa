import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTriggersError, openPubSub } from '../src/index.js';
import { describePubSubConformance, waitFor } from './conformance.js';
import { killSockets, ownSockets } from './drop.js';

const NAME = `sprout-js-conf-${process.pid}`;
const metadata = { natsURL: 'nats://127.0.0.1:4222', ackWait: '1s' };
let admin: Awaited<ReturnType<typeof connect>>;
beforeAll(async () => {
  admin = await connect({ servers: '127.0.0.1:4222' });
});
afterAll(() => admin?.close());

/** A pub/sub.jetstream engine on the test server, with `md` over the suite's metadata. */
const openJs = (md: Record<string, string> = {}) =>
  openPubSub({ name: NAME, type: 'pubsub.jetstream', metadata: { ...metadata, ...md } });

/** Cuts every NATS connection of this process but the admin one: the engines' connections. */
function dropEngineConnections(): void {
  const adminPort = (admin as unknown as { protocol: { transport: { socket: { localPort: number } } } })
    .protocol.transport.socket.localPort;
  killSockets(
    4222,
    ownSockets(4222).filter((p) => p !== adminPort),
  );
}

/** Closes the engine and deletes the stream the test made. */
async function closeAndDelete(e: { close(): Promise<void> }, stream: string): Promise<void> {
  await e.close();
  const jsm = await admin.jetstreamManager();
  await jsm.streams.delete(stream).catch(() => {});
}

describePubSubConformance('jetstream', {
  open: (timer) =>
    openPubSub({
      name: NAME,
      type: 'pubsub.jetstream',
      metadata: { ...metadata, ackWait: timer === 'short' ? '1s' : '10m' },
    }),
  countsAttempts: true,
  redeliversOnNack: true,
  redeliversAfterClose: true,
  async dropConnections() {
    dropEngineConnections();
  },
  async cleanup(topics) {
    const jsm = await admin.jetstreamManager();
    for (const t of topics) await jsm.streams.delete(t.replace(/[.*>\s/\\]/g, '_')).catch(() => {});
  },
});

describe('pubsub.jetstream delivery limits', () => {
  it('maxDeliver stops redelivery after that many deliveries', async () => {
    const topic = `${NAME}.maxdeliver`;
    const e = await openJs({ maxDeliver: '2' });
    const attempts: number[] = [];
    try {
      const sub = await e.subscribe({
        topic,
        group: 'g',
        maxInFlight: 1,
        onMessage: (d) => {
          attempts.push(d.attempt);
          void d.nack();
        },
        onError: () => {},
      });
      await e.publish(topic, new TextEncoder().encode('poison'));
      await waitFor(() => attempts.length === 2, 'two deliveries');
      await new Promise((r) => setTimeout(r, 1500)); // past ackWait: a third would have come
      expect(attempts).toEqual([1, 2]);
      await sub.close();
    } finally {
      await closeAndDelete(e, topic.replace(/[.*>\s/\\]/g, '_'));
    }
  });
});

describe('pubsub.jetstream metadata', () => {
  const open = (md: Record<string, string>) =>
    openPubSub({
      name: 'bad',
      type: 'pubsub.jetstream',
      metadata: { natsURL: 'nats://127.0.0.1:4222', ...md },
    }).catch((e: unknown) => e);

  it('refuses what it cannot honour and malformed values, naming the key', async () => {
    const tls = await open({ tls_client_cert: 'x' });
    expect(isTriggersError(tls, 'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED')).toBe(true);
    for (const [md, field] of [
      [{ ackPolicy: 'none' }, 'metadata.ackPolicy'],
      [{ deliverPolicy: 'sometimes' }, 'metadata.deliverPolicy'],
      [{ ackWait: 'long' }, 'metadata.ackWait'],
      [{ maxDeliver: 'x' }, 'metadata.maxDeliver'],
    ] as const) {
      const err = await open(md);
      expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID'), JSON.stringify(md)).toBe(true);
      expect((err as { field: string }).field).toBe(field);
    }
  });

  it('says the broker is unavailable when nothing listens', async () => {
    const err = await openPubSub({
      name: 'down',
      type: 'pubsub.jetstream',
      metadata: { natsURL: 'nats://127.0.0.1:1' },
    }).catch((e: unknown) => e);
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE')).toBe(true);
  });

  it('creates the durable consumer with Dapr settings (ackWait, maxDeliver, backOff) on a named stream', async () => {
    const stream = `${NAME}-named`;
    const e = await openPubSub({
      name: NAME,
      type: 'pubsub.jetstream',
      metadata: {
        ...metadata,
        streamName: stream,
        durableName: 'orders',
        maxDeliver: '4',
        backOff: '[1s, 2s]',
        ackWait: '7s',
      },
    });
    try {
      const sub = await e.subscribe({
        topic: `${NAME}.named.a`,
        group: 'g',
        maxInFlight: 1,
        onMessage: () => {},
        onError: () => {},
      });
      await e.publish(`${NAME}.named.b`, new Uint8Array([1]));
      const jsm = await admin.jetstreamManager();
      const info = await jsm.streams.info(stream);
      expect(info.config.subjects.sort()).toEqual([`${NAME}.named.a`, `${NAME}.named.b`]);
      const c = await jsm.consumers.info(stream, `orders-${NAME}_named_a`);
      expect(c.config.max_deliver).toBe(4);
      expect(c.config.backoff).toEqual([1e9, 2e9]);
      expect(c.config.ack_policy).toBe('explicit');
      await sub.close();
    } finally {
      await closeAndDelete(e, stream);
    }
  });
});

describe('pubsub.jetstream pull consumer', () => {
  it('a delivery carries the stream sequence, the delivery count and the stored time from its ack subject', async () => {
    const topic = `${NAME}.facts`;
    const e = await openJs();
    const seen: { id: string; attempt: number; publishedAt?: number }[] = [];
    try {
      const sub = await e.subscribe({
        topic,
        group: 'g',
        maxInFlight: 4,
        onMessage: (d) => {
          seen.push({ id: d.id, attempt: d.attempt, publishedAt: d.publishedAt });
          void (seen.length === 2 ? d.nack() : d.ack()); // the second comes again
        },
        onError: () => {},
      });
      const before = Date.now();
      await e.publish(topic, new TextEncoder().encode('a'));
      await e.publish(topic, new TextEncoder().encode('b'));
      const after = Date.now();
      await waitFor(() => seen.length === 3, 'three deliveries');
      const jsm = await admin.jetstreamManager();
      const stream = await jsm.streams.info(topic.replace(/[.*>\s/\\]/g, '_'));
      const first = stream.state.first_seq;
      expect(seen.map((s) => [s.id, s.attempt])).toEqual([
        [String(first), 1],
        [String(first + 1), 1],
        [String(first + 1), 2],
      ]);
      for (const s of seen) {
        expect(s.publishedAt).toBeGreaterThanOrEqual(before - 1);
        expect(s.publishedAt).toBeLessThanOrEqual(after + 1);
      }
      await sub.close();
    } finally {
      await closeAndDelete(e, topic.replace(/[.*>\s/\\]/g, '_'));
    }
  });

  it('a consumer deleted under it is told as unavailable and made again; what is published after is consumed', async () => {
    const topic = `${NAME}.deleted`;
    const stream = topic.replace(/[.*>\s/\\]/g, '_');
    const durable = `g-${stream}`;
    const e = await openJs();
    const errors: Error[] = [];
    const got: string[] = [];
    try {
      const sub = await e.subscribe({
        topic,
        group: 'g',
        maxInFlight: 4,
        onMessage: (d) => {
          got.push(new TextDecoder().decode(d.data));
          void d.ack();
        },
        onError: (err) => errors.push(err),
      });
      const jsm = await admin.jetstreamManager();
      const config = (await jsm.consumers.info(stream, durable)).config;
      await jsm.consumers.delete(stream, durable);
      await waitFor(() => errors.length > 0, 'the deleted consumer told');
      expect(isTriggersError(errors[0], 'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE')).toBe(true);
      expect(errors[0]!.message).toContain('pull failed: 409 Consumer Deleted');
      await waitFor(
        () =>
          jsm.consumers.info(stream, durable).then(
            () => true,
            () => false,
          ),
        'the consumer made again',
      );
      expect((await jsm.consumers.info(stream, durable)).config).toMatchObject({
        ack_policy: config.ack_policy,
        ack_wait: config.ack_wait,
        filter_subject: topic,
      });
      await e.publish(topic, new TextEncoder().encode('after'));
      await waitFor(() => got.includes('after'), 'the message published after the consumer came back');
      expect(errors).toHaveLength(1);
      await sub.close();
    } finally {
      await closeAndDelete(e, stream);
    }
  });

  it('after its connection is cut while a pull waits, never holds more than maxInFlight unsettled', async () => {
    const topic = `${NAME}.cut`;
    const e = await openJs({ ackWait: '30s' });
    const held: { ack(): Promise<void> }[] = [];
    const got = new Set<string>();
    let most = 0;
    let reconnected = 0;
    try {
      const sub = await e.subscribe({
        topic,
        group: 'g',
        maxInFlight: 4,
        onMessage: (d) => {
          held.push(d);
          got.add(new TextDecoder().decode(d.data));
          most = Math.max(most, held.length);
        },
        onError: () => {},
        onReconnect: () => reconnected++,
      });
      // a pull for 4 waits at the server (the stream is empty) when the connection is cut
      await new Promise((r) => setTimeout(r, 300));
      dropEngineConnections();
      await waitFor(() => reconnected > 0, 'the reconnect');
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 12; i++) await e.publish(topic, new TextEncoder().encode(`m${i}`));
      await waitFor(() => held.length >= 4, 'four deliveries');
      await new Promise((r) => setTimeout(r, 500)); // a stale pull would bring more meanwhile
      expect(most).toBe(4);
      // settled ones are replaced, still never more than 4 at once, until all 12 came
      const until = Date.now() + 15_000;
      while (got.size < 12 || held.length) {
        if (Date.now() > until) throw new Error(`${got.size} of 12 came`);
        if (held.length) await held.shift()!.ack();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(most).toBe(4);
      await sub.close();
    } finally {
      await closeAndDelete(e, topic.replace(/[.*>\s/\\]/g, '_'));
    }
  });
});
