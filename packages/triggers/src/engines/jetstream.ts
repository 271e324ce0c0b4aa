import {
  AckPolicy,
  DeliverPolicy,
  connect,
  headers as natsHeaders,
  jwtAuthenticator,
  nanos,
  type ConnectionOptions,
  type Consumer,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
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

/**
 * Dapr's `pubsub.jetstream`: a topic is a subject, a consumer group a durable pull consumer
 * (`{durableName or group}-{topic}`) with explicit acks, `ackWait`, `maxDeliver`, `backOff`; nack
 * is a NAK with the retry delay. Fetching asks for no more than maxInFlight minus what is unsettled.
 * Dapr expects the stream to exist; Sprout creates it (or adds the subject to `streamName`) so a
 * laptop needs no setup. Lag is the consumer's num_pending + num_ack_pending.
 */

interface Settings {
  streamName: string | undefined;
  durableName: string | undefined;
  consumer: Partial<ConsumerConfig>;
  single: boolean;
  memoryStorage: boolean;
  replicas: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * How long the fetch loop waits for half its slots to be free before it fetches for fewer: slots
 * held longer are messages backing off between retries, which must not hold up the others.
 */
const GATHER_MS = 10;
/** NATS names may not hold `.`, `*`, `>` or whitespace. */
const natsName = (s: string) => s.replace(/[.*>\s/\\]/g, '_');

function settingsOf(md: Metadata): Settings {
  const consumer: Partial<ConsumerConfig> = { ack_policy: AckPolicy.Explicit };
  const ackPolicy = md.oneOf('ackPolicy', ['explicit', 'all', 'none'], 'explicit');
  if (ackPolicy !== 'explicit')
    throw md.invalid('ackPolicy', 'must be explicit: Sprout acks each message itself');
  if (md.string('ackWait')) consumer.ack_wait = nanos(md.duration('ackWait', 30_000));
  const maxDeliver = md.int('maxDeliver', -1, -1);
  if (maxDeliver !== -1 && maxDeliver !== 0) consumer.max_deliver = maxDeliver;
  const maxAckPending = md.int('maxAckPending', 0);
  if (maxAckPending > 0) consumer.max_ack_pending = maxAckPending;
  const backOff = md.string('backOff');
  if (backOff) {
    const list = backOff
      .replace(/^\[|\]$/g, '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    consumer.backoff = list.map((d) => {
      const probe = new Metadata({ name: 'backOff', type: '', metadata: { d } }, ['d']);
      return nanos(probe.duration('d', 0));
    });
  }
  const policy = md.oneOf('deliverPolicy', ['all', 'last', 'new', 'sequence', 'time'], 'all');
  consumer.deliver_policy = {
    all: DeliverPolicy.All,
    last: DeliverPolicy.Last,
    new: DeliverPolicy.New,
    sequence: DeliverPolicy.StartSequence,
    time: DeliverPolicy.StartTime,
  }[policy];
  if (policy === 'sequence') consumer.opt_start_seq = md.int('startSequence', 1, 1);
  if (policy === 'time') consumer.opt_start_time = new Date(md.int('startTime', 0) * 1000).toISOString();
  return {
    streamName: md.string('streamName'),
    durableName: md.string('durableName') ?? md.string('queueGroupName'),
    consumer,
    single:
      md.oneOf('concurrency', ['single', 'parallel'], 'parallel') === 'single' && !!md.string('concurrency'),
    memoryStorage: md.bool('memoryStorage', false),
    replicas: md.int('replicas', 1, 1),
  };
}

export class JetStreamPubSub implements PubSubEngine {
  readonly type = 'pubsub.jetstream';
  private readonly subs = new Set<JetStreamSubscription>();
  private readonly streams = new Map<string, Promise<string>>();

  private constructor(
    readonly config: ComponentConfig,
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly settings: Settings,
  ) {}

  static async open(config: ComponentConfig): Promise<JetStreamPubSub> {
    const md = new Metadata(
      config,
      [
        'natsURL',
        'consumerID',
        'name',
        'token',
        'jwt',
        'seedKey',
        'streamName',
        'durableName',
        'queueGroupName',
        'startSequence',
        'startTime',
        'deliverPolicy',
        'ackPolicy',
        'ackWait',
        'maxDeliver',
        'maxAckPending',
        'backOff',
        'replicas',
        'memoryStorage',
        'domain',
        'apiPrefix',
        'concurrency',
        // push-consumer tuning: a pull consumer's flow is bounded by each fetch (README)
        'flowControl',
        'heartbeat',
      ],
      { tls_client_cert: [], tls_client_key: [], rateLimit: ['0'], ...PUBSUB_SCOPES_REFUSED },
    );
    const settings = settingsOf(md);
    const opts: ConnectionOptions = {
      servers: md.required('natsURL'),
      name: md.string('name', 'dapr.io - pubsub.jetstream'),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 5000,
    };
    const token = md.string('token');
    if (token) opts.token = token;
    const jwt = md.string('jwt');
    if (jwt) opts.authenticator = jwtAuthenticator(jwt, new TextEncoder().encode(md.required('seedKey')));
    const jsOpts = { ...(md.string('domain') ? { domain: md.string('domain')! } : {}) };
    if (md.string('apiPrefix')) Object.assign(jsOpts, { apiPrefix: md.string('apiPrefix') });
    let nc: NatsConnection;
    try {
      nc = await connect(opts);
    } catch (err) {
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
        `component "${config.name}": NATS at ${opts.servers as string} cannot be reached: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const engine = new JetStreamPubSub(
      config,
      nc,
      nc.jetstream(jsOpts),
      await nc.jetstreamManager(jsOpts),
      settings,
    );
    void engine.watch().catch(() => undefined);
    return engine;
  }

  /** nats.js reconnects by itself; its status tells the subscribers the connection went and came back. */
  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type !== 'disconnect' && s.type !== 'reconnect') continue;
      for (const sub of this.subs) sub.connection(s.type === 'reconnect');
    }
  }

  /** The stream that holds `topic`, created (or extended with the subject) when there is none. */
  stream(topic: string): Promise<string> {
    let p = this.streams.get(topic);
    if (!p) {
      p = this.ensureStream(topic);
      this.streams.set(topic, p);
      p.catch(() => this.streams.delete(topic));
    }
    return p;
  }

  private async ensureStream(topic: string): Promise<string> {
    const found = await this.jsm.streams.find(topic).catch(() => undefined);
    if (found) return found;
    const name = this.settings.streamName ?? natsName(topic);
    const info = await this.jsm.streams.info(name).catch(() => undefined);
    if (info) {
      await this.jsm.streams.update(name, { ...info.config, subjects: [...info.config.subjects, topic] });
    } else {
      await this.jsm.streams.add({
        name,
        subjects: [topic],
        num_replicas: this.settings.replicas,
        ...(this.settings.memoryStorage ? { storage: 'memory' as never } : {}),
      });
    }
    return name;
  }

  async publish(topic: string, data: Uint8Array, metadata: MessageMetadata = {}): Promise<void> {
    // The server refuses more than its max_payload (1 MiB by default); say so before sending.
    const max = this.nc.info?.max_payload;
    if (max !== undefined && data.byteLength > max)
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_MESSAGE_TOO_LARGE',
        `component "${this.config.name}" (pubsub.jetstream): a message of ${data.byteLength} bytes is over ` +
          `the NATS server's max_payload of ${max} bytes; publish a smaller one or raise max_payload on the server`,
      );
    try {
      await this.stream(topic);
      const keys = Object.keys(metadata);
      const h = keys.length ? natsHeaders() : undefined;
      for (const k of keys) h!.set(k, metadata[k]!);
      await this.js.publish(topic, data, h ? { headers: h } : {});
    } catch (err) {
      throw this.unavailable('publish', err);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const durable = natsName(`${this.settings.durableName ?? options.group}-${options.topic}`);
    try {
      const stream = await this.stream(options.topic);
      await this.jsm.consumers.info(stream, durable).catch(() =>
        this.jsm.consumers.add(stream, {
          ...this.settings.consumer,
          durable_name: durable,
          filter_subject: options.topic,
        }),
      );
      const sub = new JetStreamSubscription(this, stream, durable, options, () => this.subs.delete(sub));
      this.subs.add(sub);
      sub.start();
      return sub;
    } catch (err) {
      throw this.unavailable('subscribe', err);
    }
  }

  async close(): Promise<void> {
    for (const s of [...this.subs]) await s.close();
    await this.nc.close().catch(() => {});
  }

  unavailable(what: string, err: unknown): TriggersError {
    return new TriggersError(
      'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
      `component "${this.config.name}" (pubsub.jetstream): ${what} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

class JetStreamSubscription implements Subscription {
  private readonly unsettled = new Set<JsMsg>();
  private readonly max: number;
  /** A fetch asks for at least this many (half the slots) unless GATHER_MS passed without them. */
  private readonly least: number;
  private closed = false;
  private wake: (() => void) | undefined;
  private stopFetch: (() => void) | undefined;
  /** The durable consumer, looked up once (a lookup is a round trip) and again after an error. */
  private consumer: Consumer | undefined;

  constructor(
    private readonly engine: JetStreamPubSub,
    private readonly stream: string,
    private readonly durable: string,
    private readonly options: SubscribeOptions,
    private readonly onClose: () => void,
  ) {
    this.max = engine.settings.single ? 1 : Math.max(1, options.maxInFlight);
    this.least = Math.ceil(this.max / 2);
  }

  start(): void {
    void this.loop();
  }

  async lag(): Promise<number | undefined> {
    const info = await this.engine.jsm.consumers.info(this.stream, this.durable);
    return info.num_pending + info.num_ack_pending;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsettled.clear(); // not acked: JetStream redelivers them after ackWait
    this.stopFetch?.();
    this.signal();
    this.onClose();
  }

  /** The connection was lost (`false`) or is back (`true`). */
  connection(back: boolean): void {
    if (this.closed) return;
    if (back) this.options.onReconnect?.();
    else this.options.onError(this.engine.unavailable('connection', new Error('connection lost')));
  }

  /** Waits for a slot to be settled (true: `patient` and GATHER_MS passed first). */
  private settled(patient: boolean): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = patient ? setTimeout(() => resolve(true), GATHER_MS) : undefined;
      this.wake = () => {
        clearTimeout(timer);
        resolve(false);
      };
    });
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /**
   * Fetches as slots free up. A fetch per settled message would cut the flow into batches as small
   * as what each bulk answer settled (each its own bulk request and ack write, in both processes),
   * so the loop fetches once half the slots are free, or whatever is free after GATHER_MS.
   */
  private async loop(): Promise<void> {
    let failures = 0;
    let gathered = false;
    while (!this.closed) {
      const room = this.max - this.unsettled.size;
      if (room <= 0 || (room < this.least && !gathered)) {
        gathered = await this.settled(room > 0);
        continue;
      }
      gathered = false;
      try {
        this.consumer ??= await this.engine.js.consumers.get(this.stream, this.durable);
        // A callback, not the async iterator: no promise per message.
        const batch = await this.consumer.fetch({
          max_messages: room,
          expires: 1000,
          callback: (m: JsMsg) => {
            if (!this.closed) this.deliver(m); // else not acked: redelivered after ackWait
          },
        } as Parameters<Consumer['fetch']>[0]);
        this.stopFetch = () => batch.stop();
        const err = await batch.closed();
        if (err) throw err;
        failures = 0;
      } catch (err) {
        this.consumer = undefined;
        if (this.closed) return;
        this.options.onError(this.engine.unavailable('fetch', err));
        await sleep(Math.min(100 * 2 ** failures++, 2000));
      }
    }
  }

  private deliver(m: JsMsg): void {
    this.unsettled.add(m);
    let metadata: MessageMetadata = NO_METADATA;
    if (m.headers) {
      const h: Record<string, string> = {};
      for (const k of m.headers.keys()) h[k] = m.headers.get(k);
      metadata = h;
    }
    this.options.onMessage(new JetStreamDelivery(this, m, metadata));
  }

  /** Acks or naks `m` (JetStreamDelivery): the slot is free once the ack is published. */
  settle(m: JsMsg, ack: boolean, delayMs?: number): void {
    if (this.closed || !this.unsettled.delete(m)) return;
    try {
      if (ack) m.ack();
      else m.nak(delayMs);
    } catch (err) {
      // The connection is closed: JetStream delivers the message again after ackWait.
      this.options.onError(this.engine.unavailable('ack', err));
    }
    this.signal();
  }
}

const NO_METADATA: MessageMetadata = Object.freeze({});
const SETTLED = Promise.resolve();

/** One message handed out: plain fields, settled through its subscription (no closures per message). */
class JetStreamDelivery implements Delivery {
  readonly id: string;
  readonly topic: string;
  readonly data: Uint8Array;
  readonly attempt: number;
  readonly publishedAt: number;

  constructor(
    private readonly sub: JetStreamSubscription,
    private readonly m: JsMsg,
    readonly metadata: MessageMetadata,
  ) {
    const info = m.info;
    this.id = String(info.streamSequence);
    this.topic = m.subject;
    this.data = m.data;
    this.attempt = info.deliveryCount;
    this.publishedAt = info.timestampNanos / 1e6;
  }

  /** Settled once published (`settle` never throws): every ack shares one resolved promise. */
  ack(): Promise<void> {
    this.sub.settle(this.m, true);
    return SETTLED;
  }

  nack(delayMs?: number): Promise<void> {
    this.sub.settle(this.m, false, delayMs);
    return SETTLED;
  }
}
