import {
  AckPolicy,
  DeliverPolicy,
  connect,
  headers as natsHeaders,
  jwtAuthenticator,
  nanos,
  type ConnectionOptions,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type {
  ComponentConfig,
  MessageMetadata,
  PubSubEngine,
  SubscribeOptions,
  Subscription,
} from '../broker.js';
import { TriggersError } from '../errors.js';
import { JetStreamPull } from './jetstream-pull.js';
import { Metadata, PUBSUB_SCOPES_REFUSED } from './metadata.js';

/**
 * Dapr's `pubsub.jetstream`: a topic is a subject, a consumer group a durable pull consumer
 * (`{durableName or group}-{topic}`) with explicit acks, `ackWait`, `maxDeliver`, `backOff`; nack
 * is a NAK with the retry delay. Pulling asks for no more than maxInFlight minus what is unsettled
 * (JetStreamPull).
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
    /** `$JS.API`, or the domain's (`$JS.<domain>.API`) or the configured `apiPrefix`. */
    readonly apiPrefix: string,
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
      md.string('apiPrefix') ?? (md.string('domain') ? `$JS.${md.string('domain')!}.API` : '$JS.API'),
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
      const stream = await this.consumer(options.topic, durable);
      const sub = new JetStreamSubscription(this, stream, durable, options, () => this.subs.delete(sub));
      this.subs.add(sub);
      return sub;
    } catch (err) {
      throw this.unavailable('subscribe', err);
    }
  }

  /**
   * The durable consumer `durable` on the stream of `topic`, created with Dapr's settings when it is
   * not there (at subscribe, and again when it was deleted while subscribed); its stream's name.
   */
  async consumer(topic: string, durable: string): Promise<string> {
    const stream = await this.stream(topic);
    const found = await this.jsm.consumers.info(stream, durable).catch(() => undefined);
    if (found) return stream;
    try {
      await this.jsm.consumers.add(stream, {
        ...this.settings.consumer,
        durable_name: durable,
        filter_subject: topic,
      });
    } catch (err) {
      this.streams.delete(topic); // the stream may be gone too: looked for (or made) again next time
      throw err;
    }
    return stream;
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

/** A durable pull consumer's subscription: the pulling is JetStreamPull's, the lag the consumer's info. */
class JetStreamSubscription implements Subscription {
  private readonly pull: JetStreamPull;
  private closed = false;

  constructor(
    private readonly engine: JetStreamPubSub,
    private readonly stream: string,
    private readonly durable: string,
    private readonly options: SubscribeOptions,
    private readonly onClose: () => void,
  ) {
    this.pull = new JetStreamPull(engine, stream, durable, engine.settings.single, options, () =>
      engine.consumer(options.topic, durable),
    );
  }

  async lag(): Promise<number | undefined> {
    const info = await this.engine.jsm.consumers.info(this.stream, this.durable);
    return info.num_pending + info.num_ack_pending;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pull.close();
    this.onClose();
  }

  /** The connection was lost (`false`) or is back (`true`). */
  connection(back: boolean): void {
    if (this.closed) return;
    this.pull.connection(back);
    if (back) this.options.onReconnect?.();
    else this.options.onError(this.engine.unavailable('connection', new Error('connection lost')));
  }
}
