import { createInbox, nanos, type Msg, type NatsConnection, type Subscription as NatsSub } from 'nats';
import type { Delivery, MessageMetadata, SubscribeOptions } from '../broker.js';
import { parseAckReply } from './jetstream-ack.js';

/**
 * A JetStream pull consumer spoken in its own protocol over one long-lived inbox: pull requests
 * (`$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>`, `{batch, expires, idle_heartbeat}`) ask for
 * no more than the free slots (maxInFlight minus what is unsettled minus what was asked for and not
 * yet come), messages come to the inbox with their ack subject, status messages (100 heartbeat,
 * 408 expired, 409 ended) to the inbox itself. nats.js's `fetch`/`consume` do the same through
 * an iterator, a message wrapper and a parsed info object per message, and a new inbox and timers
 * per fetch: this keeps what a delivery needs, read from the ack subject (ADR-15), in place.
 *
 * What was asked for is lost when the connection goes (the server forgets the requests) or when
 * two idle heartbeats are missed: the count starts again from what is unsettled.
 */

/** How long a pull request waits at the server for messages before it ends (408). */
const EXPIRES_MS = 10_000;
/** The server's idle heartbeat while a request waits; two missed mean the request is gone. */
const HEARTBEAT_MS = 2_500;
/**
 * How long the loop waits for half the slots to be free before it asks for fewer: slots held
 * longer are messages backing off between retries, which must not hold up the others.
 */
const GATHER_MS = 10;
/** How long after a refused pull (no such consumer) it asks again. */
const RETRY_MS = 1000;

/** A pull request's members after `batch`, the same for every request. */
const REQUEST_TAIL = `,"expires":${nanos(EXPIRES_MS)},"idle_heartbeat":${nanos(HEARTBEAT_MS)}}`;
const ACK = new TextEncoder().encode('+ACK');
const NO_METADATA: MessageMetadata = Object.freeze({});
const SETTLED = Promise.resolve();
/** Where messages go and how problems are told: the engine's side of a subscription. */
export interface PullOwner {
  readonly nc: NatsConnection;
  /** `$JS.API`, or the domain's or the configured prefix. */
  readonly apiPrefix: string;
  unavailable(what: string, err: unknown): Error;
}

export class JetStreamPull {
  private readonly unsettled = new Set<Msg>();
  /** Messages that came past maxInFlight (a pull the server kept over a reconnect), oldest first. */
  private readonly waiting: Msg[] = [];
  private readonly max: number;
  private readonly least: number;
  private readonly inbox: string;
  private readonly next: string;
  /** Messages asked for in pull requests still open, not yet come. */
  private requested = 0;
  private closed = false;
  private connected = true;
  private pullQueued = false;
  private gather: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private heard = Date.now();
  private readonly sub: NatsSub;
  /** The topic as every message of a literal (wildcard-free) subject carries it: no decoding. */
  private readonly literalTopic: string | undefined;

  constructor(
    private readonly owner: PullOwner,
    stream: string,
    durable: string,
    single: boolean,
    private readonly options: SubscribeOptions,
    /** Makes sure the durable consumer is there (made again when it was deleted). */
    private readonly restore: () => Promise<unknown>,
  ) {
    this.max = single ? 1 : Math.max(1, options.maxInFlight);
    this.least = Math.ceil(this.max / 2);
    this.inbox = createInbox();
    this.next = `${owner.apiPrefix}.CONSUMER.MSG.NEXT.${stream}.${durable}`;
    this.literalTopic = /[*>]/.test(options.topic) ? undefined : options.topic;
    this.sub = owner.nc.subscribe(this.inbox, { callback: (err, m) => this.received(err, m) });
    this.watchdog = setInterval(() => this.checkHeartbeat(), HEARTBEAT_MS);
    this.watchdog.unref();
    this.pull();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsettled.clear(); // not acked: JetStream redelivers them after ackWait
    this.waiting.length = 0;
    clearTimeout(this.gather);
    clearTimeout(this.retry);
    clearInterval(this.watchdog);
    this.sub.unsubscribe();
  }

  /** The connection went (`false`: what was asked for is lost) or is back (ask again). */
  connection(back: boolean): void {
    if (this.closed) return;
    this.connected = back;
    this.requested = 0;
    if (back) this.pull();
  }

  private received(err: Error | null, m: Msg): void {
    if (this.closed) return; // not acked: redelivered after ackWait
    this.heard = Date.now();
    if (err) {
      // The server refused the inbox subscription (permissions): nothing will come; say so.
      this.options.onError(this.owner.unavailable('subscribe', err));
      return;
    }
    if (!m.reply) return this.status(m);
    if (this.requested > 0) this.requested--;
    // More than was asked for: a pull from before a lost connection that the server still held.
    // Kept until a slot is free, never handed out past maxInFlight.
    if (this.unsettled.size >= this.max) this.waiting.push(m);
    else this.deliver(m);
  }

  private deliver(m: Msg): void {
    const info = parseAckReply(m.reply ?? '');
    if (!info) return; // not a JetStream message: nothing to ack
    this.unsettled.add(m);
    let metadata = NO_METADATA;
    const h = m.headers;
    if (h) {
      const md: Record<string, string> = {};
      for (const k of h.keys()) md[k] = h.get(k);
      metadata = md;
    }
    this.options.onMessage(
      new PulledDelivery(this, m, info.id, this.literalTopic ?? m.subject, metadata, info.attempt, info.ms),
    );
  }

  /**
   * A status message on the inbox: a heartbeat; a request that ended (408 expired, 409 limits)
   * with what it still owed; or a refusal (409 consumer deleted, 400, 503 no responders): told,
   * then the consumer is made again if it is gone and asked again, a second apart, not in a loop.
   */
  private status(m: Msg): void {
    const h = m.headers;
    const code = h?.code ?? 0;
    if (code === 100) return; // idle heartbeat (or flow control, not used by pull consumers)
    const owed = Number(h?.get('Nats-Pending-Messages') || 0);
    if (owed > 0 || code === 408) {
      this.requested = Math.max(0, this.requested - owed);
      this.pull();
      return;
    }
    this.requested = 0;
    this.refused(new Error(`${code} ${h?.description ?? ''}`.trim()));
  }

  private refused(err: unknown): void {
    if (this.closed || this.retry) return;
    this.options.onError(this.owner.unavailable('pull', err));
    this.retry = setTimeout(() => {
      this.restore().then(
        () => {
          this.retry = undefined;
          this.pull();
        },
        (e: unknown) => {
          this.retry = undefined;
          this.refused(e);
        },
      );
    }, RETRY_MS);
  }

  /** No message and no heartbeat for two heartbeats while asking: the request is gone; ask again. */
  private checkHeartbeat(): void {
    if (this.closed || !this.connected || this.requested === 0) return;
    if (Date.now() - this.heard < 2 * HEARTBEAT_MS) return;
    this.heard = Date.now();
    this.requested = 0;
    this.pull();
  }

  /** Slots neither unsettled, nor asked for, nor taken by what waits. */
  private free(): number {
    return this.max - this.unsettled.size - this.requested - this.waiting.length;
  }

  /** Asks for the free slots: at once when half are free, else after GATHER_MS. */
  private pull(): void {
    if (this.closed || !this.connected) return;
    const free = this.free();
    if (free <= 0) return;
    if (free < this.least) {
      this.gather ??= setTimeout(() => {
        this.gather = undefined;
        this.request(this.free());
      }, GATHER_MS);
      return;
    }
    this.request(free);
  }

  private request(batch: number): void {
    if (this.closed || !this.connected || batch <= 0) return;
    clearTimeout(this.gather);
    this.gather = undefined;
    this.requested += batch;
    try {
      this.owner.nc.publish(this.next, `{"batch":${batch}${REQUEST_TAIL}`, { reply: this.inbox });
    } catch (err) {
      this.requested -= batch;
      this.options.onError(this.owner.unavailable('pull', err));
    }
  }

  /**
   * Acks or naks `m`: the slot is free once the ack is published; once per turn, what waits takes
   * the free slots, then the rest is asked for.
   */
  settle(m: Msg, ack: boolean, delayMs?: number): void {
    if (this.closed || !this.unsettled.delete(m)) return;
    try {
      if (ack) m.respond(ACK);
      else m.respond(delayMs ? `-NAK {"delay":${nanos(delayMs)}}` : '-NAK');
    } catch (err) {
      // The connection is closed: JetStream delivers the message again after ackWait.
      this.options.onError(this.owner.unavailable('ack', err));
    }
    if (!this.pullQueued) {
      this.pullQueued = true;
      queueMicrotask(() => {
        this.pullQueued = false;
        while (this.waiting.length && this.unsettled.size < this.max && !this.closed)
          this.deliver(this.waiting.shift()!);
        this.pull();
      });
    }
  }
}

/** One message handed out: plain fields, settled through its pull consumer (no closures per message). */
class PulledDelivery implements Delivery {
  constructor(
    private readonly pull: JetStreamPull,
    private readonly m: Msg,
    readonly id: string,
    readonly topic: string,
    readonly metadata: MessageMetadata,
    readonly attempt: number,
    readonly publishedAt: number,
  ) {
    this.data = m.data;
  }

  readonly data: Uint8Array;

  /** Settled once published (`settle` never throws): every ack shares one resolved promise. */
  ack(): Promise<void> {
    this.pull.settle(this.m, true);
    return SETTLED;
  }

  nack(delayMs?: number): Promise<void> {
    this.pull.settle(this.m, false, delayMs);
    return SETTLED;
  }
}
