import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
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
import { REDIS_CONNECTION_KEYS, REDIS_REFUSED, connectRedis, redisOptions } from './redis-connection.js';

/**
 * Dapr's `pubsub.redis` over Redis Streams: a topic is a stream, `consumerID` a consumer group.
 * Entries are read with XREADGROUP (never more than maxInFlight unsettled), settled with XACK, and
 * entries left pending longer than `processingTimeout` (a crashed or closed subscriber's) are taken
 * over with XAUTOCLAIM every `redeliverInterval`. Lag is the group's pending + not yet delivered.
 */

interface Settings {
  processingTimeoutMs: number;
  redeliverIntervalMs: number;
  maxLenApprox: number;
  streamTtlMs: number;
  queueDepth: number;
  concurrency: number | undefined;
  ackOnError: boolean;
}

type Entry = [id: string, fields: Buffer[]];
const DATA_FIELD = Buffer.from('data');
const METADATA_FIELD = Buffer.from('metadata');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NO_METADATA: MessageMetadata = Object.freeze({});
const EMPTY = Buffer.alloc(0);
const SETTLED = Promise.resolve();

export class RedisStreamsPubSub implements PubSubEngine {
  readonly type = 'pubsub.redis';
  private readonly subs = new Set<StreamSubscription>();

  private constructor(
    readonly config: ComponentConfig,
    readonly client: Redis,
    readonly settings: Settings,
    readonly options: ReturnType<typeof redisOptions>,
  ) {}

  static async open(config: ComponentConfig): Promise<RedisStreamsPubSub> {
    const md = new Metadata(
      config,
      [
        ...REDIS_CONNECTION_KEYS,
        'consumerID',
        'redeliverInterval',
        'processingTimeout',
        'ackOnError',
        'queueDepth',
        'concurrency',
        'maxLenApprox',
        'streamTTL',
      ],
      { ...REDIS_REFUSED, ...PUBSUB_SCOPES_REFUSED },
    );
    const settings: Settings = {
      processingTimeoutMs: md.duration('processingTimeout', 15_000),
      redeliverIntervalMs: md.duration('redeliverInterval', 60_000),
      maxLenApprox: md.int('maxLenApprox', 0),
      streamTtlMs: md.duration('streamTTL', 0),
      queueDepth: md.int('queueDepth', 100, 1),
      concurrency: md.string('concurrency') === undefined ? undefined : md.int('concurrency', 10, 1),
      ackOnError: md.bool('ackOnError', false),
    };
    const options = redisOptions(md, `sprout-${config.name}`);
    return new RedisStreamsPubSub(config, await connectRedis(options, config.name), settings, options);
  }

  async publish(topic: string, data: Uint8Array, metadata: MessageMetadata = {}): Promise<void> {
    const { maxLenApprox, streamTtlMs } = this.settings;
    const args: (string | Buffer | number)[] = [topic];
    if (maxLenApprox > 0) args.push('MAXLEN', '~', maxLenApprox);
    args.push('*', 'data', Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (Object.keys(metadata).length > 0) args.push('metadata', JSON.stringify(metadata));
    try {
      await this.client.call('XADD', ...args);
      if (streamTtlMs > 0)
        await this.client.call('XTRIM', topic, 'MINID', '~', `${Date.now() - streamTtlMs}-0`);
    } catch (err) {
      throw this.unavailable('publish', err);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const reader = await connectRedis(this.options, this.config.name);
    const sub = new StreamSubscription(this, reader, options, () => this.subs.delete(sub));
    this.subs.add(sub);
    try {
      await sub.createGroup();
    } catch (err) {
      await sub.close();
      throw this.unavailable('subscribe', err);
    }
    sub.start();
    return sub;
  }

  async close(): Promise<void> {
    for (const s of [...this.subs]) await s.close();
    this.client.disconnect();
  }

  unavailable(what: string, err: unknown): TriggersError {
    return new TriggersError(
      'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
      `component "${this.config.name}" (pubsub.redis): ${what} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

class StreamSubscription implements Subscription {
  private readonly consumer: string;
  private readonly max: number;
  /** Entry ids handed out and not yet settled. */
  private readonly unsettled = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private wake: (() => void) | undefined;
  private lastClaim = 0;
  /** Where the next XAUTOCLAIM scan starts (Redis' cursor; back to 0-0 after a full pass). */
  private claimCursor = '0-0';

  constructor(
    private readonly engine: RedisStreamsPubSub,
    private readonly reader: Redis,
    private readonly options: SubscribeOptions,
    private readonly onClose: () => void,
  ) {
    this.consumer = `${options.group}-${randomUUID().slice(0, 8)}`;
    const { concurrency } = engine.settings;
    this.max = Math.max(1, Math.min(options.maxInFlight, concurrency ?? Infinity));
  }

  async createGroup(): Promise<void> {
    await this.engine.client
      .call('XGROUP', 'CREATE', this.options.topic, this.options.group, '0', 'MKSTREAM')
      .catch((err: Error) => {
        if (!err.message.includes('BUSYGROUP')) throw err;
      });
  }

  start(): void {
    // ioredis reconnects by itself; each `ready` after the first is a reconnect.
    this.reader.on('ready', () => this.options.onReconnect?.());
    void this.loop();
  }

  async lag(): Promise<number | undefined> {
    const groups = (await this.engine.client.call('XINFO', 'GROUPS', this.options.topic)) as unknown[][];
    for (const g of groups) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < g.length; i += 2) info.set(String(g[i]), g[i + 1]);
      if (info.get('name') !== this.options.group) continue;
      const lag = info.get('lag');
      return lag === null || lag === undefined ? undefined : Number(info.get('pending')) + Number(lag);
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.unsettled.clear(); // left pending in Redis: XAUTOCLAIM hands them to another consumer
    this.reader.disconnect();
    this.signal();
    this.onClose();
  }

  /** A slot was freed (or the subscription closed): the read loop goes on. */
  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async loop(): Promise<void> {
    const { topic, group } = this.options;
    const { redeliverIntervalMs, processingTimeoutMs, queueDepth } = this.engine.settings;
    const claims = redeliverIntervalMs > 0 && processingTimeoutMs > 0;
    let failures = 0;
    while (!this.closed) {
      const room = this.max - this.unsettled.size;
      if (room <= 0) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      try {
        // A pass not finished (cursor not back at 0-0) goes on at once; a new one waits its turn.
        if (claims && (this.claimCursor !== '0-0' || Date.now() - this.lastClaim >= redeliverIntervalMs)) {
          this.lastClaim = Date.now();
          await this.claim(room);
          continue;
        }
        const block = claims ? Math.min(redeliverIntervalMs, 1000) : 1000;
        const res = (await this.reader.callBuffer(
          'XREADGROUP',
          'GROUP',
          group,
          this.consumer,
          'COUNT',
          Math.min(room, queueDepth),
          'BLOCK',
          block,
          'STREAMS',
          topic,
          '>',
        )) as [Buffer, Entry[]][] | null;
        failures = 0;
        for (const [, entries] of res ?? []) for (const e of entries) this.deliver(e, 1);
      } catch (err) {
        if (this.closed) return;
        if ((err as Error).message.includes('NOGROUP')) await this.createGroup().catch(() => {});
        this.options.onError(this.engine.unavailable('read', err));
        await sleep(Math.min(100 * 2 ** failures++, 2000));
      }
    }
  }

  /** XAUTOCLAIM entries idle over processingTimeout; their delivery count comes from XPENDING. */
  private async claim(room: number): Promise<void> {
    const { topic, group } = this.options;
    const { processingTimeoutMs } = this.engine.settings;
    const reply = (await this.reader.callBuffer(
      'XAUTOCLAIM',
      topic,
      group,
      this.consumer,
      processingTimeoutMs,
      this.claimCursor,
      'COUNT',
      room,
    )) as [Buffer, Entry[] | null[]];
    this.claimCursor = String(reply[0]);
    const entries = (reply[1] as (Entry | null)[]).filter(
      (e): e is Entry => e !== null && !this.unsettled.has(String(e[0])),
    );
    if (entries.length === 0) return;
    const counts = new Map<string, number>();
    const pending = (await this.reader.call(
      'XPENDING',
      topic,
      group,
      String(entries[0]![0]),
      String(entries[entries.length - 1]![0]),
      entries.length,
      this.consumer,
    )) as [string, string, number, number][];
    for (const [id, , , times] of pending) counts.set(id, Number(times));
    for (const e of entries) this.deliver(e, counts.get(String(e[0])) ?? 2);
  }

  private deliver(entry: Entry, attempt: number): void {
    const id = String(entry[0]);
    // The fields read in place (a later duplicate wins, as it would in a map).
    let m: Buffer | undefined;
    let payload: Buffer | undefined;
    const kv = entry[1];
    for (let i = 0; i + 1 < kv.length; i += 2) {
      const name = kv[i]!;
      if (name.length === 4 && name.equals(DATA_FIELD)) payload = kv[i + 1];
      else if (name.length === 8 && name.equals(METADATA_FIELD)) m = kv[i + 1];
    }
    let metadata: MessageMetadata = NO_METADATA;
    try {
      if (m) metadata = JSON.parse(m.toString('utf8')) as MessageMetadata;
    } catch {
      metadata = NO_METADATA; // an entry written by someone else: the payload is still delivered
    }
    this.unsettled.add(id);
    this.options.onMessage(
      new StreamDelivery(this, id, this.options.topic, payload ?? EMPTY, metadata, attempt),
    );
  }

  /** Settles `id` (StreamDelivery.ack): one XACK per turn of the event loop for every entry acked in it. */
  ackEntry(id: string): Promise<void> {
    if (this.closed || !this.unsettled.has(id)) return SETTLED;
    return this.xack(id);
  }

  /** StreamDelivery.nack: the entry is handed out again after `delayMs`, its slot kept meanwhile. */
  async nackEntry(id: string, attempt: number, delayMs?: number): Promise<void> {
    if (this.closed || !this.unsettled.has(id)) return;
    if (this.engine.settings.ackOnError) return this.ackEntry(id);
    // The slot stays taken while the entry waits: nothing is fetched in its place.
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.redeliver(id, attempt + 1);
    }, delayMs ?? 0);
    this.timers.add(t);
  }

  /** Entry ids acked in this turn of the event loop: they go out as one XACK. */
  private acks: { ids: string[]; done: Promise<void> } | undefined;

  /**
   * Acks `id` together with the others acked in this turn (a bulk answer settles many at once).
   * Their slots are freed once the XACK is written, as a JetStream ack frees its slot when
   * published, so the next read does not wait for Redis' reply (an XACK lost with the connection
   * leaves the entry pending: XAUTOCLAIM hands it out again).
   */
  private xack(id: string): Promise<void> {
    if (!this.acks) {
      const ids: string[] = [];
      const { topic, group } = this.options;
      // Never rejects: an XACK that fails (Redis is away) leaves the entries pending, and
      // XAUTOCLAIM hands them out again (a redelivery); the failure is reported once for all.
      const done = new Promise<void>((resolve) =>
        setImmediate(() => {
          this.acks = undefined;
          this.engine.client.call('XACK', topic, group, ...ids).then(
            () => resolve(),
            (err: unknown) => {
              this.options.onError(this.engine.unavailable('ack', err));
              resolve();
            },
          );
          let freed = false;
          for (const x of ids) freed = this.unsettled.delete(x) || freed;
          if (freed) this.signal();
        }),
      );
      this.acks = { ids, done };
    }
    this.acks.ids.push(id);
    return this.acks.done;
  }

  /** Hands a nacked entry out again: XCLAIM to ourselves bumps Redis' delivery count. */
  private async redeliver(id: string, attempt: number): Promise<void> {
    if (this.closed) return;
    const { topic, group } = this.options;
    try {
      const claimed = (await this.engine.client.callBuffer(
        'XCLAIM',
        topic,
        group,
        this.consumer,
        0,
        id,
      )) as Entry[];
      this.unsettled.delete(id);
      if (claimed[0]) this.deliver(claimed[0], attempt);
      else this.signal(); // trimmed or deleted meanwhile: nothing left to deliver
    } catch (err) {
      // Redis is away: the entry stays pending and XAUTOCLAIM brings it back.
      this.unsettled.delete(id);
      this.signal();
      this.options.onError(this.engine.unavailable('redeliver', err));
    }
  }
}

/** One entry handed out: plain fields, settled through its subscription (no closures per message). */
class StreamDelivery implements Delivery {
  readonly data: Uint8Array;
  /** An entry id is `<ms>-<seq>`: Redis' clock when XADD stored it. */
  readonly publishedAt: number;

  constructor(
    private readonly sub: StreamSubscription,
    readonly id: string,
    readonly topic: string,
    payload: Buffer,
    readonly metadata: MessageMetadata,
    readonly attempt: number,
  ) {
    this.data = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    this.publishedAt = Number(id.slice(0, id.indexOf('-')));
  }

  ack(): Promise<void> {
    return this.sub.ackEntry(this.id);
  }

  nack(delayMs?: number): Promise<void> {
    return this.sub.nackEntry(this.id, this.attempt, delayMs);
  }
}
