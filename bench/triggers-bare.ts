// The bare clients' own consume+ack loops that bench/triggers.ts measures the delivery engine
// against: nats.js pull `consume` + `ack`; ioredis `XREADGROUP` + `XACK` per entry; amqplib
// `consume` + `ack` on a durable queue (persistent messages published with confirms).
import { connect as amqpConnect } from 'amqplib';
import { Redis } from 'ioredis';
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { AMQP_URL, NATS_URL, REDIS_HOST } from './triggers-harness.js';

export interface Bare {
  /** Creates what the loop reads (stream + durable consumer, stream + group). */
  prepare(topic: string): Promise<void>;
  publish(topic: string, data: Uint8Array): Promise<unknown>;
  /** Consumes and acks until `stop()` is true, calling `onMessage` with each parsed payload. */
  consume(topic: string, onMessage: (event: { data: unknown }) => void, stop: () => boolean): Promise<void>;
  close(): Promise<void>;
}

async function bareNats(inFlight: number): Promise<Bare> {
  const nc: NatsConnection = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const streams: string[] = [];
  return {
    async prepare(topic) {
      streams.push(topic);
      await jsm.streams.add({ name: topic, subjects: [topic] });
      await jsm.consumers.add(topic, { durable_name: 'bare', ack_policy: AckPolicy.Explicit });
    },
    publish: (topic, data) => js.publish(topic, data),
    async consume(topic, onMessage, stop) {
      const consumer = await js.consumers.get(topic, 'bare');
      const messages = await consumer.consume({ max_messages: inFlight });
      for await (const m of messages) {
        onMessage(JSON.parse(new TextDecoder().decode(m.data)));
        m.ack();
        if (stop()) break; // leaving the loop stops the consumer
      }
    },
    async close() {
      for (const s of streams) await jsm.streams.delete(s);
      await nc.drain();
    },
  };
}

async function bareRedis(inFlight: number): Promise<Bare> {
  const redis = new Redis(`redis://${REDIS_HOST}`);
  const reader = new Redis(`redis://${REDIS_HOST}`);
  const streams: string[] = [];
  return {
    async prepare(topic) {
      streams.push(topic);
      await redis.xgroup('CREATE', topic, 'bare', '0', 'MKSTREAM');
    },
    publish: (topic, data) => redis.xadd(topic, '*', 'data', Buffer.from(data)),
    async consume(topic, onMessage, stop) {
      while (!stop()) {
        const res = (await reader.xreadgroup(
          'GROUP',
          'bare',
          'c1',
          'COUNT',
          inFlight,
          'BLOCK',
          1000,
          'STREAMS',
          topic,
          '>',
        )) as [string, [string, string[]][]][] | null;
        const entries = res?.[0]?.[1] ?? [];
        // Each entry handled and acked on its own, as a consumer that acks what it finished.
        await Promise.all(
          entries.map(async ([id, fields]) => {
            onMessage(JSON.parse(fields[1]!));
            await redis.xack(topic, 'bare', id);
          }),
        );
      }
    },
    async close() {
      if (streams.length) await redis.del(...streams);
      redis.disconnect();
      reader.disconnect();
    },
  };
}

async function bareRabbit(inFlight: number): Promise<Bare> {
  const conn = await amqpConnect(AMQP_URL, { noDelay: true }); // as pubsub.rabbitmq connects
  const pub = await conn.createConfirmChannel();
  const queues: string[] = [];
  return {
    async prepare(topic) {
      queues.push(topic);
      await pub.assertQueue(topic, { durable: true });
    },
    publish: (topic, data) =>
      new Promise<void>((resolve, reject) =>
        pub.sendToQueue(topic, Buffer.from(data), { persistent: true }, (err) =>
          err ? reject(err as Error) : resolve(),
        ),
      ),
    async consume(topic, onMessage, stop) {
      const ch = await conn.createChannel();
      await ch.prefetch(inFlight);
      await new Promise<void>((resolve) => {
        void ch.consume(topic, (m) => {
          if (!m) return;
          onMessage(JSON.parse(m.content.toString('utf8')));
          ch.ack(m);
          if (stop()) resolve();
        });
      });
      await ch.close();
    },
    async close() {
      for (const q of queues) await pub.deleteQueue(q);
      await conn.close();
    },
  };
}

/** Each broker's bare loop, `inFlight` messages unacked at most (prefetch, COUNT, max_messages). */
export const bareClients: Record<string, (inFlight: number) => Promise<Bare>> = {
  jetstream: bareNats,
  redis: bareRedis,
  rabbitmq: bareRabbit,
};
