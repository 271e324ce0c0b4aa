import type { MetadataPositions } from '@sprout/spec';

/**
 * The contract between the delivery engine (retries, dead letters, in-flight bounds, scaling) and a
 * broker engine (one per Dapr component type: pubsub.redis, pubsub.jetstream, pubsub.rabbitmq,
 * pubsub.mqtt3, bindings.cron, ...). A broker engine moves bytes and settles messages; it knows
 * nothing of functions, CloudEvents or retry policy.
 */

/** Header-like key/values carried beside a payload (Dapr's `metadata`, AMQP properties, ...). */
export type MessageMetadata = Readonly<Record<string, string>>;

/** One message taken from a broker and not yet settled. Exactly one of ack/nack is called. */
export interface Delivery {
  /** The broker's own id (stream entry id, JetStream stream sequence, AMQP message id, ...). */
  readonly id: string;
  readonly topic: string;
  /** The payload bytes as they were published. */
  readonly data: Uint8Array;
  readonly metadata: MessageMetadata;
  /** 1 on first delivery; the broker's redelivery count + 1 where the broker tracks it. */
  readonly attempt: number;
  /**
   * When the broker stored the message (epoch ms, the broker's clock), where it records it: the
   * Redis Streams entry id, the JetStream stream timestamp. RabbitMQ: when it was published, from
   * the `timestamp_in_ms` header (Sprout's publishers set it, and RabbitMQ's timestamp interceptor)
   * or AMQP's `timestamp` property (seconds); absent when the publisher set neither. Absent on
   * MQTT 3, which carries no time.
   */
  readonly publishedAt?: number;
  /**
   * Done: the broker forgets the message. An ack that cannot reach the broker (connection lost)
   * does not reject: the broker still holds the message and delivers it again (at least once).
   */
  ack(): Promise<void>;
  /** Not done: the broker delivers it again (after `delayMs` where the broker supports a delay). */
  nack(delayMs?: number): Promise<void>;
}

export interface SubscribeOptions {
  readonly topic: string;
  /** Consumer group / durable name / queue name: Dapr's `consumerID` (default: the app id). */
  readonly group: string;
  /**
   * At most this many deliveries are handed to `onMessage` and left unsettled at once; the engine
   * stops fetching (backpressure to the broker) until one is settled. Never buffer beyond it.
   */
  readonly maxInFlight: number;
  onMessage(delivery: Delivery): void;
  /** A connection problem the engine is recovering from (it reconnects by itself). */
  onError(err: Error): void;
  /** The connection is back after a loss and the subscription consumes again (counted by the caller). */
  onReconnect?(): void;
}

export interface Subscription {
  /** Messages waiting for this subscription (KEDA's lag/pending), or undefined if unknown. */
  lag(): Promise<number | undefined>;
  /** Stops fetching; unsettled deliveries are redelivered by the broker later. */
  close(): Promise<void>;
}

/** A pub/sub component (`pubsub.*`). */
export interface PubSubEngine {
  readonly type: string;
  publish(topic: string, data: Uint8Array, metadata?: MessageMetadata): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}

/** An input binding (`bindings.cron`, `bindings.mqtt3`, ...): deliveries without a topic choice. */
export interface InputBindingEngine {
  readonly type: string;
  read(options: Omit<SubscribeOptions, 'topic' | 'group'>): Promise<Subscription>;
  close(): Promise<void>;
}

export interface BindingResponse {
  readonly data?: Uint8Array;
  readonly metadata?: MessageMetadata;
}

/** An output binding (`bindings.http`, `bindings.redis`, `bindings.postgresql`, ...). */
export interface OutputBindingEngine {
  readonly type: string;
  /** The operations this binding supports (Dapr's names: create, get, exec, query, post, ...). */
  readonly operations: readonly string[];
  invoke(operation: string, data: Uint8Array, metadata?: MessageMetadata): Promise<BindingResponse>;
  close(): Promise<void>;
}

/** What an engine factory gets: the component's name and its metadata, secrets already resolved. */
export interface ComponentConfig {
  readonly name: string;
  readonly type: string;
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * Where each metadata item is written (`file:line` of its name and value), as @sprout/spec keeps it
   * for a component it loaded (`ComponentDocument.metadataAt`): metadata errors then lead with it.
   */
  readonly at?: MetadataPositions;
  /** Where the component's metadata list is (`ComponentDocument.componentAt`): a key it lacks is placed there. */
  readonly componentAt?: string;
}
