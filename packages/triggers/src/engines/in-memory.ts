import { randomUUID } from 'node:crypto';
import type { Delivery, MessageMetadata, PubSubEngine, SubscribeOptions, Subscription } from '../broker.js';
import { TriggersError } from '../errors.js';

/**
 * Dapr's `pubsub.in-memory`: one process, no persistence. Each consumer group (Dapr's `consumerID`)
 * of a topic gets every message once, shared between that group's subscribers; a message published
 * while a topic has no group at all is dropped, as Dapr's in-memory broker does. A group outlives its
 * subscribers (like a broker's consumer group), so what a closed subscriber left unsettled is handed
 * to the next one.
 */

interface Message {
  readonly id: string;
  readonly topic: string;
  readonly data: Uint8Array;
  readonly metadata: MessageMetadata;
  readonly publishedAt: number;
  attempt: number;
}

interface Consumer {
  readonly maxInFlight: number;
  readonly onMessage: (d: Delivery) => void;
  /** Deliveries handed to this consumer and not yet settled. */
  readonly unsettled: Set<Message>;
  closed: boolean;
}

class Group {
  /** Not yet handed to a consumer, oldest first. */
  readonly waiting: Message[] = [];
  readonly consumers: Consumer[] = [];
  /** Redeliveries held back by nack(delayMs) until their timer fires. */
  readonly delayed = new Map<Message, NodeJS.Timeout>();
  private next = 0;

  push(m: Message): void {
    this.waiting.push(m);
    this.pump();
  }

  /** Hands waiting messages to consumers with room, round robin, never beyond maxInFlight. */
  pump(): void {
    while (this.waiting.length > 0) {
      const consumer = this.pick();
      if (!consumer) return;
      const m = this.waiting.shift()!;
      consumer.unsettled.add(m);
      consumer.onMessage(this.delivery(consumer, m));
    }
  }

  lag(): number {
    let unsettled = 0;
    for (const c of this.consumers) unsettled += c.unsettled.size;
    return this.waiting.length + unsettled + this.delayed.size;
  }

  /** A consumer leaves: what it held is redelivered to the others (or the next to come). */
  remove(consumer: Consumer): void {
    consumer.closed = true;
    const i = this.consumers.indexOf(consumer);
    if (i >= 0) this.consumers.splice(i, 1);
    const back = [...consumer.unsettled];
    consumer.unsettled.clear();
    for (const m of back) m.attempt++;
    this.waiting.unshift(...back);
    this.pump();
  }

  clearTimers(): void {
    for (const t of this.delayed.values()) clearTimeout(t);
    this.delayed.clear();
  }

  private pick(): Consumer | undefined {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const c = this.consumers[(this.next + i) % n]!;
      if (c.unsettled.size < c.maxInFlight) {
        this.next = (this.next + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  private delivery(consumer: Consumer, m: Message): Delivery {
    // A settle after the consumer closed (its message already went back) is a no-op.
    const settle = (): boolean => !consumer.closed && consumer.unsettled.delete(m);
    return {
      id: m.id,
      topic: m.topic,
      data: m.data,
      metadata: m.metadata,
      attempt: m.attempt,
      publishedAt: m.publishedAt,
      ack: async () => {
        if (settle()) this.pump();
      },
      nack: async (delayMs?: number) => {
        if (!settle()) return;
        m.attempt++;
        if (delayMs && delayMs > 0) {
          const t = setTimeout(() => {
            this.delayed.delete(m);
            this.waiting.unshift(m);
            this.pump();
          }, delayMs);
          this.delayed.set(m, t);
        } else this.waiting.unshift(m);
        this.pump();
      },
    };
  }
}

export class InMemoryPubSub implements PubSubEngine {
  readonly type = 'pubsub.in-memory';
  private readonly topics = new Map<string, Map<string, Group>>();
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(readonly name: string = 'pubsub') {}

  async publish(topic: string, data: Uint8Array, metadata: MessageMetadata = {}): Promise<void> {
    this.assertOpen();
    const groups = this.topics.get(topic);
    if (!groups) return;
    const id = randomUUID();
    const publishedAt = Date.now();
    for (const g of groups.values()) {
      g.push({ id, topic, data, metadata: { ...metadata }, publishedAt, attempt: 1 });
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    let groups = this.topics.get(options.topic);
    if (!groups) this.topics.set(options.topic, (groups = new Map()));
    let group = groups.get(options.group);
    if (!group) groups.set(options.group, (group = new Group()));
    const g = group;
    const consumer: Consumer = {
      maxInFlight: Math.max(1, options.maxInFlight),
      onMessage: options.onMessage,
      unsettled: new Set(),
      closed: false,
    };
    g.consumers.push(consumer);
    const sub: Subscription = {
      lag: async () => g.lag(),
      close: async () => {
        if (consumer.closed) return;
        this.subscriptions.delete(sub);
        g.remove(consumer);
      },
    };
    this.subscriptions.add(sub);
    // Hand over what is waiting on the next tick, after the caller holds the subscription.
    queueMicrotask(() => {
      if (!consumer.closed) g.pump();
    });
    return sub;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.subscriptions]) await s.close();
    for (const groups of this.topics.values()) for (const g of groups.values()) g.clearTimers();
    this.topics.clear();
  }

  private assertOpen(): void {
    if (this.closed)
      throw new TriggersError('SPROUT_ERR_TRIGGERS_CLOSED', `pub/sub "${this.name}" is closed`);
  }
}
