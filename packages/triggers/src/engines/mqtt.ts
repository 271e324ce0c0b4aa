import { createHash, randomUUID } from 'node:crypto';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
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
 * Dapr's `pubsub.mqtt3` on an MQTT 3.1.1 broker (Mosquitto). MQTT has no nack and acknowledges a
 * connection's messages in order, so a subscription opens maxInFlight connections in the shared
 * subscription `$share/{group}/{topic}`, each holding at most one message: its PUBACK is sent only
 * when the delivery is acked. A nack hands the same message out again after its delay (Sprout's own
 * retry; the slot stays taken). A closed subscription or a lost connection leaves the message
 * un-PUBACKed in the persistent session (`cleanSession: false`, Dapr's default), and the broker sends
 * it again when that client id reconnects. Lag is what this subscriber holds: MQTT shows no queue.
 */

/** Connection options shared by pubsub.mqtt3 and bindings.mqtt3. */
export function mqttOptions(md: Metadata): { url: string; options: IClientOptions } {
  const url = md
    .required('url')
    .replace(/^tcp:\/\//, 'mqtt://')
    .replace(/^ssl:\/\//, 'mqtts://');
  if (!/^mqtts?:\/\//.test(url))
    throw md.invalid('url', 'must start with tcp://, ssl://, mqtt:// or mqtts://');
  return {
    url,
    options: {
      protocolVersion: 4,
      reconnectPeriod: 500,
      connectTimeout: 5000,
      ...readTlsMaterial(md, url.startsWith('mqtts://'), 'an ssl:// or mqtts:// url'),
    },
  };
}

/** Dapr's TLS keys of the MQTT components (`caCert`, `clientCert`, `clientKey`). */
export const MQTT_TLS_KEYS = TLS_KEYS;

/**
 * A connected client. `prepare` runs before the first packet is read, so a persistent session's
 * resent messages meet the caller's handleMessage (not mqtt.js' default, which PUBACKs at once).
 */
export async function connectMqtt(
  url: string,
  options: IClientOptions,
  component: string,
  prepare?: (client: MqttClient) => void,
): Promise<MqttClient> {
  const client = connect(url, { ...options, reconnectPeriod: 0 });
  prepare?.(client);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', (connack) => {
        (client as { sessionPresent?: boolean }).sessionPresent = connack.sessionPresent;
        resolve();
      });
      client.once('error', reject);
      client.once('close', () => reject(new Error('connection closed')));
    });
    client.options.reconnectPeriod = options.reconnectPeriod ?? 500;
    client.on('error', () => undefined); // reconnects; subscribers hear it via onError
    return client;
  } catch (err) {
    client.end(true);
    throw new TriggersError(
      'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
      `component "${component}": MQTT broker at ${url.replace(/\/\/[^@/]*@/, '//')} cannot be reached: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

export type Qos = 0 | 1 | 2;

/** Reads `qos` (Dapr's default 1). */
export function mqttQos(md: Metadata): Qos {
  const qos = md.int('qos', 1);
  if (qos > 2) throw md.invalid('qos', 'must be 0, 1 or 2');
  return qos as Qos;
}

/** What a subscription needs from the engine it reads for: pubsub.mqtt3 or the bindings.mqtt3 input. */
export interface MqttSource {
  readonly type: string;
  readonly config: ComponentConfig;
  readonly url: string;
  readonly options: IClientOptions;
  readonly settings: { readonly qos: Qos; readonly clean: boolean; readonly consumerID: string | undefined };
  /** Connection slots taken per client id stem, so a re-subscription reuses its sessions. */
  readonly slots: Map<string, Set<number>>;
}

/** A TriggersError for a broker call that failed, naming the component and its type. */
function mqttUnavailable(source: MqttSource, what: string, err: unknown): TriggersError {
  return new TriggersError(
    'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
    `component "${source.config.name}" (${source.type}): ${what} failed: ${(err as Error).message}`,
    { cause: err },
  );
}

/**
 * Subscribes `options.topic` for `source` (see MqttSubscription); `onClose` runs when it is closed.
 * A subscription that cannot open is closed again and the error is a TriggersError.
 */
export async function subscribeMqtt(
  source: MqttSource,
  options: SubscribeOptions,
  onClose: (sub: Subscription & { readonly restored: boolean }) => void,
): Promise<Subscription & { readonly restored: boolean }> {
  const sub: MqttSubscription = new MqttSubscription(source, options, () => onClose(sub));
  try {
    await sub.open();
  } catch (err) {
    await sub.close();
    throw err instanceof TriggersError ? err : mqttUnavailable(source, 'subscribe', err);
  }
  return sub;
}

export class MqttPubSub implements PubSubEngine, MqttSource {
  readonly type = 'pubsub.mqtt3';
  private readonly subs = new Set<Subscription & { readonly restored: boolean }>();
  readonly slots = new Map<string, Set<number>>();

  private constructor(
    readonly config: ComponentConfig,
    readonly publisher: MqttClient,
    readonly url: string,
    readonly options: IClientOptions,
    readonly settings: { qos: Qos; retain: boolean; clean: boolean; consumerID: string | undefined },
  ) {}

  static async open(config: ComponentConfig): Promise<MqttPubSub> {
    const md = new Metadata(
      config,
      ['url', 'qos', 'retain', 'cleanSession', 'consumerID', ...MQTT_TLS_KEYS],
      PUBSUB_SCOPES_REFUSED,
    );
    const { url, options } = mqttOptions(md);
    const settings = {
      qos: mqttQos(md),
      retain: md.bool('retain', false),
      clean: md.bool('cleanSession', false),
      // Dapr's consumerID is the MQTT client id; `{uuid}` makes it unique per replica (the other
      // templates are filled by whoever builds the component, as daprd does).
      consumerID: md.string('consumerID')?.replaceAll('{uuid}', randomUUID()),
    };
    const publisher = await connectMqtt(url, { ...options, clean: true }, config.name);
    return new MqttPubSub(config, publisher, url, options, settings);
  }

  async publish(topic: string, data: Uint8Array, _metadata?: MessageMetadata): Promise<void> {
    // MQTT 3.1.1 carries no headers: metadata stays behind (README).
    if (!this.publisher.connected)
      throw this.unavailable('publish', new Error('not connected (reconnecting)'));
    // Mosquitto does not restore shared subscriptions from its persistence file: after a broker
    // restart, what is published before this engine's subscribers are subscribed again reaches nobody.
    if ([...this.subs].some((s) => !s.restored))
      throw this.unavailable('publish', new Error('subscriptions not restored yet (reconnecting)'));
    try {
      await this.publisher.publishAsync(topic, Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
        qos: this.settings.qos,
        retain: this.settings.retain,
      });
    } catch (err) {
      throw this.unavailable('publish', err);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const sub = await subscribeMqtt(this, options, (s) => this.subs.delete(s));
    this.subs.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    for (const s of [...this.subs]) await s.close();
    await this.publisher.endAsync().catch(() => {});
  }

  unavailable(what: string, err: unknown): TriggersError {
    return mqttUnavailable(this, what, err);
  }
}

class MqttSubscription implements Subscription {
  private readonly clients: MqttClient[] = [];
  private readonly held = new Set<IPublishPacket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly taken: number[] = [];
  /** Connections lost and not yet subscribed again. */
  private readonly resubscribing = new Set<MqttClient>();
  private readonly stem: string;
  private closed = false;
  private sequence = 0;

  constructor(
    private readonly engine: MqttSource,
    private readonly options: SubscribeOptions,
    private readonly onClose: () => void,
  ) {
    const topicHash = createHash('sha256').update(options.topic).digest('hex').slice(0, 8);
    this.stem = `${engine.settings.consumerID ?? options.group}-${topicHash}`;
  }

  async open(): Promise<void> {
    const { topic, group, maxInFlight } = this.options;
    const filter = `$share/${group}/${topic}`;
    let used = this.engine.slots.get(this.stem);
    if (!used) this.engine.slots.set(this.stem, (used = new Set()));
    for (let slot = 0; this.taken.length < Math.max(1, maxInFlight); slot++) {
      if (used.has(slot)) continue;
      used.add(slot);
      this.taken.push(slot);
      const client = await connectMqtt(
        this.engine.url,
        {
          ...this.engine.options,
          clientId: `${this.stem}-${slot}`,
          clean: this.engine.settings.clean,
          resubscribe: false, // mqtt.js skips it when the session is present: see reconnected()
        },
        this.engine.config.name,
        (c) => {
          c.handleMessage = (packet, done) => this.deliver(c, packet, done);
        },
      );
      this.clients.push(client);
      client.on('close', () => this.lost(client));
      client.on('connect', () => this.reconnected(client, filter));
      // A resumed session already holds the subscription and may resend a held message first,
      // which stops this connection reading (its SUBACK too) until it is acked: do not wait then.
      const subscribing = client.subscribeAsync(filter, { qos: this.engine.settings.qos });
      if ((client as { sessionPresent?: boolean }).sessionPresent) subscribing.catch(() => {});
      else await subscribing;
    }
  }

  async lag(): Promise<number | undefined> {
    return this.held.size;
  }

  /** False between a lost connection and its subscription sent again. */
  get restored(): boolean {
    return this.resubscribing.size === 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.held.clear();
    // Nothing held is PUBACKed, so the session keeps it for the next connection; PUBACKs already
    // written are flushed first (a forced end could drop them and cause a redelivery).
    await Promise.all(this.clients.map((c) => c.endAsync(false).catch(() => {})));
    const used = this.engine.slots.get(this.stem);
    for (const s of this.taken) used?.delete(s);
    this.onClose();
  }

  /**
   * Reconnected: subscribe again even when the session is present. A broker that restarted may keep
   * the session but not its shared subscription (Mosquitto 2.0 restores neither `$share` entries nor
   * anything published to them meanwhile); subscribing again is harmless when it kept them. The
   * SUBSCRIBE is written at once (the broker takes it when it reads it); its SUBACK is not waited
   * for, as a resent message this connection holds stops it reading until that message is acked.
   */
  private reconnected(client: MqttClient, filter: string): void {
    if (this.closed) return;
    this.options.onReconnect?.();
    client.subscribe(filter, { qos: this.engine.settings.qos }, (err) => {
      if (err && !this.closed) this.options.onError(mqttUnavailable(this.engine, 'subscribe', err));
    });
    this.resubscribing.delete(client);
  }

  /** The connection dropped: what it held is sent again by the broker after the reconnect. */
  private lost(client: MqttClient): void {
    if (!this.closed) this.resubscribing.add(client);
    for (const p of [...this.held]) if ((p as { via?: MqttClient }).via === client) this.held.delete(p);
    if (!this.closed)
      this.options.onError(mqttUnavailable(this.engine, 'connection', new Error('connection lost')));
  }

  private deliver(client: MqttClient, packet: IPublishPacket, done: (err?: Error) => void): void {
    if (this.closed) return; // never PUBACKed: the session keeps it
    const tagged = Object.assign(packet, { via: client });
    this.held.add(tagged);
    const id = `${client.options.clientId}:${packet.messageId ?? ++this.sequence}`;
    const live = () => !this.closed && this.held.has(tagged) && client.connected;
    const hand = (attempt: number) => {
      const payload = packet.payload as Buffer;
      const delivery: Delivery = {
        id,
        topic: packet.topic,
        data: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
        metadata: {},
        attempt,
        ack: async () => {
          if (!live()) return;
          this.held.delete(tagged);
          done(); // sends the PUBACK and lets this connection take the next message
        },
        nack: async (delayMs?: number) => {
          if (!live()) return;
          const t = setTimeout(() => {
            this.timers.delete(t);
            if (live()) hand(attempt + 1);
          }, delayMs ?? 0);
          this.timers.add(t);
        },
      };
      this.options.onMessage(delivery);
    };
    hand(packet.dup ? 2 : 1);
  }
}
