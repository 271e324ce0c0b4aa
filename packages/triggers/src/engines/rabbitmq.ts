import { randomUUID } from 'node:crypto';
import {
  connect,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type RecoveringChannelModel,
} from 'amqplib';
import type {
  ComponentConfig,
  Delivery,
  MessageMetadata,
  PubSubEngine,
  SubscribeOptions,
  Subscription,
} from '../broker.js';
import { TriggersError } from '../errors.js';
import { Metadata, PUBSUB_SCOPES_REFUSED } from './metadata.js';
import { readTlsMaterial, TLS_KEYS } from './tls.js';

/**
 * Dapr's `pubsub.rabbitmq`: a topic is an exchange (`exchangeKind` fanout or topic), a consumer
 * group the queue `{consumerID}-{topic}` bound to it, consumed with manual acks and a prefetch of
 * maxInFlight (or `prefetchCount` when lower). nack requeues (after the delay, held meanwhile so
 * the prefetch keeps counting it). The connection recovers by itself and every subscription is
 * consumed again. Lag is the queue's ready count plus what this subscriber holds unsettled.
 */

interface Settings {
  durable: boolean;
  autoDelete: boolean;
  exchangeKind: 'fanout' | 'topic';
  persistent: boolean;
  confirm: boolean;
  prefetchCount: number;
  single: boolean;
  singleActiveConsumer: boolean;
  queueArgs: Record<string, number>;
}

/** How often a message id was seen redelivered here (classic queues only flag a redelivery). */
const SEEN_LIMIT = 10_000;

export class RabbitPubSub implements PubSubEngine {
  readonly type = 'pubsub.rabbitmq';
  private readonly subs = new Set<RabbitSubscription>();
  private publisher: Promise<Channel | ConfirmChannel> | undefined;
  private readonly exchanges = new Set<string>();
  readonly seen = new Map<string, number>();
  model: ChannelModel | undefined;

  private constructor(
    readonly config: ComponentConfig,
    readonly settings: Settings,
  ) {}

  conn!: RecoveringChannelModel;

  static async open(config: ComponentConfig): Promise<RabbitPubSub> {
    const md = new Metadata(
      config,
      [
        'connectionString',
        'hostname',
        'username',
        'password',
        'protocol',
        'consumerID',
        'clientName',
        'heartBeat',
        'durable',
        'deletedWhenUnused',
        'publisherConfirm',
        'prefetchCount',
        'exchangeKind',
        'deliveryMode',
        'maxLen',
        'maxLenBytes',
        'ttlInSeconds',
        'maxPriority',
        'singleActiveConsumer',
        'reconnectWaitSeconds',
        'concurrency',
        'requeueInFailure',
        ...TLS_KEYS,
      ],
      {
        autoAck: ['false'],
        enableDeadLetter: ['false'],
        saslExternal: ['false'],
        ...PUBSUB_SCOPES_REFUSED,
      },
    );
    const queueArgs: Record<string, number> = {};
    if (md.string('maxLen')) queueArgs['x-max-length'] = md.int('maxLen', 0);
    if (md.string('maxLenBytes')) queueArgs['x-max-length-bytes'] = md.int('maxLenBytes', 0);
    if (md.string('ttlInSeconds')) queueArgs['x-message-ttl'] = seconds(md, 'ttlInSeconds') * 1000;
    if (md.string('maxPriority')) queueArgs['x-max-priority'] = md.int('maxPriority', 0, 0);
    const settings: Settings = {
      durable: md.bool('durable', false),
      autoDelete: md.bool('deletedWhenUnused', true),
      exchangeKind: md.oneOf('exchangeKind', ['fanout', 'topic'], 'fanout'),
      persistent: md.int('deliveryMode', 0) === 2,
      confirm: md.bool('publisherConfirm', false),
      prefetchCount: md.int('prefetchCount', 0),
      single: md.oneOf('concurrency', ['parallel', 'single'], 'parallel') === 'single',
      singleActiveConsumer: md.bool('singleActiveConsumer', false),
      queueArgs,
    };
    md.bool('requeueInFailure', false); // validated; nack always requeues (README)
    const protocol = md.oneOf('protocol', ['amqp', 'amqps'], 'amqp');
    let url = md.string('connectionString');
    if (!url) {
      const user = md.string('username');
      const auth = user
        ? `${encodeURIComponent(user)}:${encodeURIComponent(md.string('password', ''))}@`
        : '';
      url = `${protocol}://${auth}${md.required('hostname')}`;
    }
    const tls = readTlsMaterial(
      md,
      url.startsWith('amqps://'),
      'an amqps:// connectionString, or protocol amqps',
    );
    const heartbeat = md.string('heartBeat') ? seconds(md, 'heartBeat') : undefined;
    const waitMs = md.string('reconnectWaitSeconds') ? seconds(md, 'reconnectWaitSeconds') * 1000 : 3000;
    const engine = new RabbitPubSub(config, settings);
    const target = heartbeat === undefined ? url : withQuery(url, 'heartbeat', String(heartbeat));
    try {
      engine.conn = await connect(target, {
        // Small frames (acks, one delivery) go out at once: with Nagle's algorithm on, they wait
        // for the broker's delayed ACK, tens of milliseconds per message at a steady rate.
        noDelay: true,
        ...tls,
        clientProperties: { connection_name: md.string('clientName', `sprout-${config.name}`) },
        recovery: {
          initialDelay: Math.min(waitMs, 200),
          maxDelay: waitMs,
          initialMaxRetries: 0,
          setup: (model: ChannelModel) => engine.attach(model),
        },
      });
    } catch (err) {
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
        `component "${config.name}": RabbitMQ cannot be reached: ${(err as Error).message}`,
        { cause: err },
      );
    }
    engine.conn.on('error', () => undefined); // recovery reconnects; subscribers hear it via onError
    engine.conn.on('disconnect', (err: Error) => {
      engine.model = undefined;
      engine.publisher = undefined;
      for (const s of engine.subs) s.detach(err);
    });
    return engine;
  }

  /** After every (re)connect: forget channels of the old connection, consume again. */
  private async attach(model: ChannelModel): Promise<void> {
    this.model = model;
    this.publisher = undefined;
    this.exchanges.clear();
    for (const s of this.subs) await s.attach(model);
  }

  async declare(ch: Channel, topic: string): Promise<void> {
    await ch.assertExchange(topic, this.settings.exchangeKind, { durable: true });
  }

  async publish(topic: string, data: Uint8Array, metadata: MessageMetadata = {}): Promise<void> {
    try {
      const model = this.model;
      if (!model) throw new Error('not connected (reconnecting)');
      this.publisher ??= this.settings.confirm ? model.createConfirmChannel() : model.createChannel();
      const ch = await this.publisher;
      if (!this.exchanges.has(topic)) {
        await this.declare(ch, topic);
        this.exchanges.add(topic);
      }
      const { routingKey = '', ...headers } = metadata;
      const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const now = Date.now();
      const options = {
        messageId: randomUUID(),
        ...amqpTimestamp(now),
        headers: { [TIMESTAMP_MS_HEADER]: now, ...headers },
        ...(this.settings.persistent ? { deliveryMode: 2 } : {}),
        ...(headers['content-type'] ? { contentType: headers['content-type'] } : {}),
      };
      if (this.settings.confirm) {
        await new Promise<void>((resolve, reject) =>
          (ch as ConfirmChannel).publish(topic, routingKey, body, options, (err) =>
            err ? reject(err) : resolve(),
          ),
        );
      } else ch.publish(topic, routingKey, body, options);
    } catch (err) {
      this.publisher = undefined;
      throw this.unavailable('publish', err);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const sub = new RabbitSubscription(this, options, () => this.subs.delete(sub));
    try {
      if (!this.model) throw new Error('not connected (reconnecting)');
      await sub.attach(this.model);
    } catch (err) {
      throw this.unavailable('subscribe', err);
    }
    this.subs.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    for (const s of [...this.subs]) await s.close();
    await this.conn.close().catch(() => {});
  }

  unavailable(what: string, err: unknown): TriggersError {
    return new TriggersError(
      'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
      `component "${this.config.name}" (pubsub.rabbitmq): ${what} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }

  /** The attempt of a delivery: 1, or one more than the redeliveries of its id seen here. */
  attemptOf(m: ConsumeMessage): number {
    const id = m.properties.messageId as string | undefined;
    if (!m.fields.redelivered) return 1;
    if (!id) return 2;
    const n = (this.seen.get(id) ?? 1) + 1;
    this.seen.delete(id);
    this.seen.set(id, n);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.keys().next().value!);
    return n;
  }
}

class RabbitSubscription implements Subscription {
  readonly queue: string;
  private ch: Channel | undefined;
  private readonly unsettled = new Set<ConsumeMessage>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** The connection was lost: the next attach is a reconnect. */
  private lostConnection = false;

  constructor(
    private readonly engine: RabbitPubSub,
    private readonly options: SubscribeOptions,
    private readonly onClose: () => void,
  ) {
    this.queue = `${options.group}-${options.topic}`;
  }

  private get prefetch(): number {
    const { single, prefetchCount } = this.engine.settings;
    if (single) return 1;
    const max = Math.max(1, this.options.maxInFlight);
    return prefetchCount > 0 ? Math.min(prefetchCount, max) : max;
  }

  async attach(model: ChannelModel): Promise<void> {
    if (this.closed) return;
    const s = this.engine.settings;
    const ch = await model.createChannel();
    ch.on('error', () => undefined);
    await this.engine.declare(ch, this.options.topic);
    await ch.assertQueue(this.queue, {
      durable: s.durable,
      autoDelete: s.autoDelete,
      arguments: { ...s.queueArgs, ...(s.singleActiveConsumer ? { 'x-single-active-consumer': true } : {}) },
    });
    await ch.bindQueue(this.queue, this.options.topic, s.exchangeKind === 'topic' ? '#' : '');
    await ch.prefetch(this.prefetch, false);
    this.ch = ch;
    await ch.consume(this.queue, (m) => m && this.deliver(ch, m), { noAck: false });
    if (this.lostConnection) this.options.onReconnect?.();
    this.lostConnection = false;
  }

  /** The connection is gone: what was unsettled is requeued by the broker. */
  detach(err: Error): void {
    this.ch = undefined;
    this.lostConnection = true;
    this.dropLocal();
    if (!this.closed) this.options.onError(this.engine.unavailable('connection', err));
  }

  async lag(): Promise<number | undefined> {
    const ch = await this.engine.model?.createChannel();
    if (!ch) return undefined;
    try {
      const q = await ch.checkQueue(this.queue);
      return q.messageCount + this.unsettled.size;
    } finally {
      await ch.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dropLocal();
    const ch = this.ch;
    this.ch = undefined;
    await ch?.close().catch(() => {}); // unacked messages go back to the queue
    this.onClose();
  }

  private dropLocal(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.unsettled.clear();
  }

  private deliver(ch: Channel, m: ConsumeMessage): void {
    this.unsettled.add(m);
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.properties.headers ?? {})) metadata[k] = String(v);
    if (m.properties.contentType) metadata['content-type'] ??= String(m.properties.contentType);
    // Settling on a channel that is gone is a no-op: the broker has requeued the message already.
    const live = () => !this.closed && this.ch === ch && this.unsettled.has(m);
    const publishedAt = publishedAtOf(m);
    const delivery: Delivery = {
      id: String(m.properties.messageId ?? `${m.fields.consumerTag}:${m.fields.deliveryTag}`),
      ...(publishedAt === undefined ? {} : { publishedAt }),
      topic: this.options.topic,
      data: new Uint8Array(m.content.buffer, m.content.byteOffset, m.content.byteLength),
      metadata,
      attempt: this.engine.attemptOf(m),
      ack: async () => {
        if (!live()) return;
        this.unsettled.delete(m);
        const id = m.properties.messageId as string | undefined;
        if (id) this.engine.seen.delete(id);
        ch.ack(m);
      },
      nack: async (delayMs?: number) => {
        if (!live()) return;
        const requeue = () => {
          if (!live()) return;
          this.unsettled.delete(m);
          ch.nack(m, false, true);
        };
        if (!delayMs) return requeue();
        const t = setTimeout(() => {
          this.timers.delete(t);
          requeue();
        }, delayMs);
        this.timers.add(t);
      },
    };
    this.options.onMessage(delivery);
  }
}

/**
 * The header with the publish time in epoch ms: the name RabbitMQ itself writes when its
 * `message_interceptors.incoming.set_header_timestamp` (3.12+) or the message_timestamp plugin is
 * on (then the broker's arrival time, which overwrites the publisher's when so configured).
 */
export const TIMESTAMP_MS_HEADER = 'timestamp_in_ms';

/**
 * The publish-time properties Sprout's RabbitMQ publishers set: AMQP's `timestamp` (whole
 * seconds, what every AMQP client and the management UI show); the ms go in `TIMESTAMP_MS_HEADER`.
 */
export function amqpTimestamp(now: number): { timestamp: number } {
  return { timestamp: Math.floor(now / 1000) };
}

/**
 * When a message was published (epoch ms), for the end-to-end latency: the `timestamp_in_ms`
 * header, else AMQP's `timestamp` property (seconds: up to a second early), else unknown.
 */
function publishedAtOf(m: ConsumeMessage): number | undefined {
  const ms = Number(m.properties.headers?.[TIMESTAMP_MS_HEADER]);
  if (Number.isFinite(ms) && ms > 0) return ms;
  const s = m.properties.timestamp as unknown;
  return typeof s === 'number' && s > 0 ? s * 1000 : undefined;
}

/** Dapr's `...Seconds` keys: a whole number of seconds or a duration. */
function seconds(md: Metadata, key: string): number {
  return md.duration(key, 0) / 1000;
}

function withQuery(url: string, key: string, value: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}
