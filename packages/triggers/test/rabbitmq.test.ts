import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { isTriggersError, openPubSub, type Delivery } from '../src/index.js';
import { describePubSubConformance, waitFor } from './conformance.js';
import { killSockets, ownSockets } from './drop.js';

const NAME = `sprout-rmq-conf-${process.pid}`;
const URL = 'amqp://guest:guest@127.0.0.1:5672';
// Durable, kept when unused, publisher confirms: what at-least-once across a dropped connection
// needs (Dapr's defaults are none of these; without confirms a publish into a dead socket is lost).
const metadata = {
  connectionString: URL,
  durable: 'true',
  deletedWhenUnused: 'false',
  publisherConfirm: 'true',
  reconnectWaitSeconds: '1',
};

type AdminChannel = Awaited<ReturnType<Awaited<ReturnType<typeof connect>>['createConfirmChannel']>>;
/** A confirm channel, so what the test publishes is routed before the connection closes. */
async function withAdmin<T>(fn: (ch: AdminChannel) => Promise<T>) {
  const conn = await connect(URL);
  try {
    const ch = await conn.createConfirmChannel();
    const out = await fn(ch);
    await ch.waitForConfirms();
    return out;
  } finally {
    await conn.close();
  }
}

describePubSubConformance('rabbitmq', {
  open: () => openPubSub({ name: NAME, type: 'pubsub.rabbitmq', metadata }),
  countsAttempts: true,
  redeliversOnNack: true,
  redeliversAfterClose: true,
  async dropConnections() {
    killSockets(5672, ownSockets(5672));
  },
  async cleanup(topics) {
    await withAdmin(async (ch) => {
      for (const t of topics) {
        for (const g of ['g', 'shared', 'audit']) await ch.deleteQueue(`${g}-${t}`);
        await ch.deleteExchange(t);
      }
    });
  },
});

describe('pubsub.rabbitmq specifics', () => {
  it('names the queue {consumerID}-{topic}, bound to a fanout exchange named after the topic', async () => {
    const topic = `${NAME}-naming`;
    const e = await openPubSub({
      name: NAME,
      type: 'pubsub.rabbitmq',
      metadata: { ...metadata, maxLen: '5' },
    });
    try {
      const got: string[] = [];
      const sub = await e.subscribe({
        topic,
        group: 'orders',
        maxInFlight: 1,
        onMessage: (d) => {
          got.push(new TextDecoder().decode(d.data));
          void d.ack();
        },
        onError: () => {},
      });
      await withAdmin(async (ch) => {
        const q = await ch.checkQueue(`orders-${topic}`);
        expect(q.queue).toBe(`orders-${topic}`);
        ch.publish(topic, '', Buffer.from('from a plain AMQP client'));
      });
      await waitFor(() => got.length === 1, 'the message published to the exchange');
      expect(got).toEqual(['from a plain AMQP client']);
      await sub.close();
      await withAdmin((ch) => ch.deleteQueue(`orders-${topic}`).then(() => ch.deleteExchange(topic)));
    } finally {
      await e.close();
    }
  });

  it('recovers when RabbitMQ itself closes the connection (rabbitmqctl close_connection)', async () => {
    const topic = `${NAME}-serverclose`;
    const clientName = `${NAME}-serverclose`;
    const e = await openPubSub({
      name: NAME,
      type: 'pubsub.rabbitmq',
      metadata: { ...metadata, clientName },
    });
    const got: string[] = [];
    const errors: Error[] = [];
    try {
      await e.subscribe({
        topic,
        group: 'g',
        maxInFlight: 5,
        onMessage: (d) => {
          got.push(new TextDecoder().decode(d.data));
          void d.ack();
        },
        onError: (err) => errors.push(err),
      });
      await e.publish(topic, new TextEncoder().encode('before'));
      await waitFor(() => got.length === 1, 'the first message');
      // Asynchronously: a blocked event loop would keep the ack above from leaving before the close.
      const run = promisify(execFile);
      const { stdout: list } = await run('rabbitmqctl', [
        'list_connections',
        'pid',
        'client_properties',
        '-q',
      ]);
      const pids = list
        .split('\n')
        .filter((l) => l.includes(clientName))
        .map((l) => l.split('\t')[0]!);
      expect(pids.length).toBe(1);
      await run('rabbitmqctl', ['close_connection', pids[0]!, 'sprout test: server-side close']);
      await waitFor(() => errors.length > 0, 'the subscriber told of the lost connection');
      await waitFor(
        () =>
          e.publish(topic, new TextEncoder().encode('after')).then(
            () => true,
            () => false,
          ),
        'a publish after recovery',
      );
      await waitFor(() => got.includes('after'), 'the message published after recovery');
      expect(got).toEqual(['before', 'after']);
    } finally {
      await e.close();
      await withAdmin((ch) => ch.deleteQueue(`g-${topic}`).then(() => ch.deleteExchange(topic)));
    }
  });

  it('exchangeKind topic: the queue takes every routing key, a publisher sets it with routingKey', async () => {
    const topic = `${NAME}-topic-kind`;
    const e = await openPubSub({
      name: NAME,
      type: 'pubsub.rabbitmq',
      metadata: { ...metadata, exchangeKind: 'topic' },
    });
    const got: string[] = [];
    try {
      await e.subscribe({
        topic,
        group: 'g',
        maxInFlight: 2,
        onMessage: (d) => {
          got.push(`${new TextDecoder().decode(d.data)}:${d.metadata.routingKey ?? '-'}`);
          void d.ack();
        },
        onError: () => {},
      });
      await e.publish(topic, new TextEncoder().encode('a'), { routingKey: 'orders.eu.created' });
      await withAdmin(async (ch) => {
        ch.publish(topic, 'orders.us', Buffer.from('b'));
      });
      await waitFor(() => got.length === 2, 'both messages');
      expect(got.sort()).toEqual(['a:-', 'b:-']);
    } finally {
      await e.close();
      await withAdmin((ch) => ch.deleteQueue(`g-${topic}`).then(() => ch.deleteExchange(topic)));
    }
  });

  it("dates each message for the end-to-end latency: Sprout's publish (ms), a plain publisher's AMQP timestamp (s), none", async () => {
    const topic = `${NAME}-timestamp`;
    const e = await openPubSub({ name: NAME, type: 'pubsub.rabbitmq', metadata });
    const got = new Map<string, { publishedAt: number | undefined; metadata: Record<string, string> }>();
    try {
      await e.subscribe({
        topic,
        group: 'g',
        maxInFlight: 3,
        onMessage: (d) => {
          got.set(new TextDecoder().decode(d.data), {
            publishedAt: d.publishedAt,
            metadata: { ...d.metadata },
          });
          void d.ack();
        },
        onError: () => {},
      });
      const before = Date.now();
      await e.publish(topic, new TextEncoder().encode('sprout'));
      const after = Date.now();
      await withAdmin(async (ch) => {
        ch.publish(topic, '', Buffer.from('timestamp'), { timestamp: 1_700_000_000 });
        ch.publish(topic, '', Buffer.from('none'));
      });
      await waitFor(() => got.size === 3, 'the three messages');
      const sprout = got.get('sprout')!;
      expect(sprout.publishedAt).toBeGreaterThanOrEqual(before);
      expect(sprout.publishedAt).toBeLessThanOrEqual(after);
      // What Sprout puts on the message is what any AMQP client reads: the timestamp property in s.
      expect(sprout.metadata.timestamp_in_ms).toBe(String(sprout.publishedAt));
      expect(got.get('timestamp')!.publishedAt).toBe(1_700_000_000_000);
      expect(got.get('none')!.publishedAt).toBeUndefined();
    } finally {
      await e.close();
      await withAdmin((ch) => ch.deleteQueue(`g-${topic}`).then(() => ch.deleteExchange(topic)));
    }
  });

  it('sets the AMQP timestamp property a plain consumer reads (seconds)', async () => {
    const topic = `${NAME}-timestamp-plain`;
    const e = await openPubSub({ name: NAME, type: 'pubsub.rabbitmq', metadata });
    try {
      const queue = `plain-${topic}`;
      await withAdmin(async (ch) => {
        await ch.assertExchange(topic, 'fanout', { durable: true });
        await ch.assertQueue(queue, { durable: false, autoDelete: false });
        await ch.bindQueue(queue, topic, '');
      });
      const before = Math.floor(Date.now() / 1000);
      await e.publish(topic, new TextEncoder().encode('x'));
      const timestamps: unknown[] = [];
      await withAdmin(async (ch) => {
        await waitFor(async () => {
          const m = await ch.get(queue, { noAck: true });
          if (m) timestamps.push(m.properties.timestamp);
          return m !== false;
        }, 'the message');
      });
      expect(timestamps[0]).toBeGreaterThanOrEqual(before);
      expect(timestamps[0]).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
      await withAdmin((ch) => ch.deleteQueue(queue).then(() => ch.deleteExchange(topic)));
    } finally {
      await e.close();
    }
  });

  it('prefetchCount below maxInFlight bounds what the broker hands out unacked', async () => {
    const topic = `${NAME}-prefetch`;
    const e = await openPubSub({
      name: NAME,
      type: 'pubsub.rabbitmq',
      metadata: { ...metadata, prefetchCount: '2' },
    });
    const held: Delivery[] = [];
    try {
      await e.subscribe({
        topic,
        group: 'g',
        maxInFlight: 10,
        onMessage: (d) => void held.push(d),
        onError: () => {},
      });
      for (let i = 0; i < 6; i++) await e.publish(topic, new TextEncoder().encode(`m${i}`));
      await waitFor(() => held.length === 2, 'the first two');
      // The broker holds the other four while two are unacked (a second's wait for a third to slip through).
      await new Promise((r) => setTimeout(r, 1000));
      expect(held).toHaveLength(2);
      await held[0]!.ack();
      await waitFor(() => held.length === 3, 'a third once one is acked');
      for (let acked = 1; acked < 6; acked++) {
        await waitFor(() => held.length > acked, `message ${acked + 1}`);
        await held[acked]!.ack();
      }
      expect(held.map((d) => new TextDecoder().decode(d.data))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    } finally {
      await e.close();
      await withAdmin((ch) => ch.deleteQueue(`g-${topic}`).then(() => ch.deleteExchange(topic)));
    }
  });

  it('refuses what it cannot honour and malformed values, naming the key', async () => {
    const open = (md: Record<string, string>) =>
      openPubSub({ name: 'bad', type: 'pubsub.rabbitmq', metadata: { connectionString: URL, ...md } }).catch(
        (e: unknown) => e,
      );
    for (const key of ['autoAck', 'enableDeadLetter']) {
      const err = await open({ [key]: 'true' });
      expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED'), key).toBe(true);
      expect((err as { field: string }).field).toBe(`metadata.${key}`);
    }
    const kind = await open({ exchangeKind: 'headers' });
    expect(isTriggersError(kind, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID')).toBe(true);
    const down = await openPubSub({
      name: 'down',
      type: 'pubsub.rabbitmq',
      metadata: { connectionString: 'amqp://127.0.0.1:1' },
    }).catch((e: unknown) => e);
    expect(isTriggersError(down, 'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE')).toBe(true);
  });
});
