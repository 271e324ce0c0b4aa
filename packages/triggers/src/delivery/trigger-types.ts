import type { Logger } from '@sprout/observe';
import type { InputBindingEngine, PubSubEngine } from '../broker.js';
import type { ComponentPolicy } from '../resiliency/policies.js';
import type { BulkSubscribe } from './bulk.js';
import type { RetryPolicySpec } from './policy.js';
import type { RouteRule } from './routes.js';

/**
 * Where deliveries go: the base URL (`http://127.0.0.1:<port>`) of an instance ready to take one.
 * The platform may make `url()` wait for an instance to start (the first message after scale to
 * zero is held, not dropped); a rejection counts as a failed attempt.
 */
export interface DeliveryTarget {
  url(): Promise<string>;
}

/** A pub/sub subscription feeding a function (`serving.triggers.dapr[]` of a `pubsub.*` type). */
export interface PubSubTrigger {
  readonly kind: 'pubsub';
  /** The trigger's name (its FUNC_CONTEXT input): what the counters are kept under. */
  readonly name: string;
  /** The pub/sub component's name (the CloudEvent's `pubsubname`). */
  readonly pubsubname: string;
  readonly engine: PubSubEngine;
  readonly topic: string;
  /** Dapr's `consumerID`: the consumer group (default the app id). */
  readonly group: string;
  /**
   * A declarative Subscription's `routes.default`; with it or `rules` the Subscription decides the
   * path, else the app's `GET /dapr/subscribe` does.
   */
  readonly route?: string;
  /** A declarative Subscription's `routes.rules`, in order (CEL `match`, see `compileMatch`). */
  readonly rules?: readonly RouteRule[];
  /** Where a message goes after its last retry (a declarative Subscription's, else the app's). */
  readonly deadLetterTopic?: string;
  /** Subscription metadata (`rawPayload`); the app's `/dapr/subscribe` metadata fills what is unset. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * A declarative Subscription's `bulkSubscribe`: messages go to the app in bulk requests (see
   * `BulkSender`). Without a declarative route, the app's `/dapr/subscribe` answer decides.
   */
  readonly bulkSubscribe?: BulkSubscribe;
}

/** An input binding feeding a function: daprd POSTs its events to `/<binding name>`. */
export interface BindingTrigger {
  readonly kind: 'binding';
  /** The binding component's name: the route and the counters' key. */
  readonly name: string;
  readonly engine: InputBindingEngine;
}

/**
 * A trigger and, when a Dapr Resiliency file names them (or its defaults apply), its component's
 * `inbound` policies: they replace `DeliveryOptions.retry`/`timeoutMs`, and a circuit breaker holds
 * deliveries while it is open.
 */
export type Trigger = (PubSubTrigger | BindingTrigger) & { readonly resiliency?: ComponentPolicy };

export interface DeliveryOptions {
  readonly target: DeliveryTarget;
  /** Deliveries in flight at once for this trigger (the function's maxConcurrency). */
  readonly maxInFlight: number;
  /** Resiliency-style retry policy (Dapr's field names); default constant 1 s, 3 retries. */
  readonly retry?: RetryPolicySpec;
  /** One attempt's timeout (Dapr resiliency `timeouts`), default 60 s. */
  readonly timeoutMs?: number;
  readonly log?: Logger;
}
