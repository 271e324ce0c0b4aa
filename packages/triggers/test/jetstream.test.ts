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
    // Every NATS socket of this process except the admin one: the engines' connections.
    const mine = ownSockets(4222);
    const adminPort = (admin as unknown as { protocol: { transport: { socket: { localPort: number } } } })
      .protocol.transport.socket.localPort;
    killSockets(
      4222,
      mine.filter((p) => p !== adminPort),
    );
  },
  async cleanup(topics) {
    const jsm = await admin.jetstreamManager();
    for (const t of topics) await jsm.streams.delete(t.replace(/[.*>\s/\\]/g, '_')).catch(() => {});
  },
});

describe('pubsub.jetstream delivery limits', () => {
  it('maxDeliver stops redelivery after that many deliveries', async () => {
    const topic = `${NAME}.maxdeliver`;
    const e = await openPubSub({
      name: NAME,
      type: 'pubsub.jetstream',
      metadata: { ...metadata, maxDeliver: '2' },
    });
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
      await e.close();
      const jsm = await admin.jetstreamManager();
      await jsm.streams.delete(topic.replace(/[.*>\s/\\]/g, '_')).catch(() => {});
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
      await e.close();
      const jsm = await admin.jetstreamManager();
      await jsm.streams.delete(stream).catch(() => {});
    }
  });
});
