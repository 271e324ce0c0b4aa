import { setMaxListeners } from 'node:events';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '@sprout/observe';
import type { Delivery, Subscription } from '../broker.js';
import { isRawPayload } from '../api/envelope.js';
import { isTriggersError, TriggersError } from '../errors.js';
import { BulkSender } from './bulk.js';
import { deliverToApp, type Outcome } from './callback.js';
import { TriggerCounters, type TriggerCounts } from './counters.js';
import { bindingRequest, pubsubRequest, type AppRequest } from './envelope.js';
import { backoffMs, mayRetry, readRetryPolicy, retriesStatus, type RetryPolicy } from './policy.js';
import { RouteBook, type RouteSettings } from './route-book.js';
import type { AppRoute } from './routes.js';
import type { DeliveryOptions, Trigger } from './trigger-types.js';

type Prepared = { deadLetterTopic?: string } & (
  | {
      url: string;
      request: AppRequest & { readonly json?: string };
      kind: 'pubsub' | 'binding';
      /** Set when the subscription is bulk: the entry's payload kind and the batch's bound. */
      bulk?: { raw: boolean; max: number };
    }
  | { outcome: Outcome }
  | { invalid: string }
);

/** Where the messages taken in one turn of the event loop go: the instance and its route, or why not. */
type Target =
  | { base: string; route?: AppRoute; set?: Extract<RouteSettings, { raw: boolean }> }
  | { outcome: Outcome; deadLetterTopic?: string };

const DEFAULT_TIMEOUT_MS = 60_000;

/** Metadata keys a dead-lettered message carries beside its own. */
export const DEAD_LETTER_METADATA = {
  reason: 'sprout-deadletter-reason',
  code: 'sprout-deadletter-code',
  topic: 'sprout-deadletter-topic',
  attempts: 'sprout-deadletter-attempts',
} as const;

/**
 * Feeds one trigger's messages to a function with Dapr's semantics: at most `maxInFlight` taken from
 * the broker at once (the broker holds the rest), each POSTed to the app and acked only after it
 * succeeded; a failed attempt is retried per the policy; after the last retry the message goes to
 * the dead-letter topic and is acked (without one it is handed back to the broker). A message that
 * keeps failing holds one slot, never the others.
 */
export class TriggerDelivery {
  private readonly counters = new TriggerCounters();
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  /** Keep-alive connections to the app's instances, closed with the delivery. */
  private readonly agent = new Agent({ keepAlive: true });
  private readonly stopping = new AbortController();
  private readonly handling = new Set<Promise<void>>();
  /** Deliveries waiting for an instance: rejected at once by close() (one abort listener for all). */
  private readonly waiting = new Set<(err: Error) => void>();
  private subscription: Subscription | undefined;
  /** Pub/sub only: gathers deliveries into bulk requests when the subscription is bulk. */
  private readonly bulk: BulkSender | undefined;
  /** Pub/sub only: where its messages go (routes per instance, rules, what a route implies). */
  private readonly book: RouteBook | undefined;

  private constructor(
    readonly trigger: Trigger,
    private readonly options: DeliveryOptions,
  ) {
    this.policy = trigger.resiliency?.retry ?? readRetryPolicy(options.retry);
    this.timeoutMs = trigger.resiliency?.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Every delivery in flight listens for the stop while it waits for an instance, POSTs or backs
    // off: many at once is expected, not a leak (Node warns past 10).
    setMaxListeners(3 * Math.max(1, Math.floor(options.maxInFlight)) + 10, this.stopping.signal);
    this.stopping.signal.addEventListener(
      'abort',
      () => {
        for (const reject of this.waiting) reject(new Error('stopping'));
        this.waiting.clear();
      },
      { once: true },
    );
    this.log = (options.log ?? createLogger({ name: 'triggers' })).child({ trigger: trigger.name });
    // A declarative rule Sprout cannot evaluate, or a rawPayload that is not a boolean, is refused
    // now, not at the first message.
    if (trigger.kind === 'pubsub') {
      this.bulk = new BulkSender({
        pubsubname: trigger.pubsubname,
        topic: trigger.topic,
        timeoutMs: this.timeoutMs,
        signal: this.stopping.signal,
        agent: this.agent,
      });
      this.book = new RouteBook(trigger, this.timeoutMs, this.stopping.signal, this.agent);
      try {
        isRawPayload(trigger.metadata ?? {});
      } catch (err) {
        throw new TriggersError(
          'SPROUT_ERR_TRIGGERS_METADATA_INVALID',
          `subscription ${trigger.pubsubname}/${trigger.topic}: ${(err as Error).message}`,
          {
            field: 'metadata.rawPayload',
          },
        );
      }
    }
  }

  /** Subscribes (or starts reading the binding) and delivers until `close()`. */
  static async start(trigger: Trigger, options: DeliveryOptions): Promise<TriggerDelivery> {
    const t = new TriggerDelivery(trigger, options);
    const common = {
      maxInFlight: Math.max(1, Math.floor(options.maxInFlight)),
      onMessage: (d: Delivery) => t.take(d),
      onError: (err: Error) => t.log.warn({ err: err.message }, 'broker connection problem; reconnecting'),
      onReconnect: () => {
        t.counters.add('reconnects');
        t.log.info('broker connection back; consuming again');
      },
    };
    t.subscription =
      trigger.kind === 'pubsub'
        ? await trigger.engine.subscribe({ ...common, topic: trigger.topic, group: trigger.group })
        : await trigger.engine.read(common);
    return t;
  }

  counts(): TriggerCounts {
    return this.counters.snapshot();
  }

  /** Messages waiting in the broker for this trigger, if the broker knows. */
  lag(): Promise<number | undefined> {
    return this.subscription?.lag() ?? Promise.resolve(undefined);
  }

  /** Stops taking messages; what is in flight is handed back to the broker unacked. */
  async close(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    await Promise.allSettled([...this.handling]);
    await this.subscription?.close();
    this.agent.destroy();
  }

  private take(d: Delivery): void {
    // Stopping: left unsettled, the broker takes it back when the subscription closes.
    if (this.stopping.signal.aborted) return;
    const started = performance.now();
    this.counters.add('inFlight');
    // One promise chained per message (a handle/catch/finally chain made four, each through the hooks).
    const p: Promise<void> = this.run(d, started).then(
      () => this.settled(p),
      (err: unknown) => {
        this.settled(p);
        this.log.error({ err: (err as Error).message, id: d.id }, 'delivery failed unexpectedly');
      },
    );
    this.handling.add(p);
  }

  private settled(p: Promise<void>): void {
    this.counters.add('inFlight', -1);
    this.handling.delete(p);
  }

  private async run(d: Delivery, started: number): Promise<void> {
    const trigger = this.trigger;
    // A broker that counts deliveries tells how many attempts went before (an instance killed while
    // handling it, say): with a dead-letter topic those count against the retry budget, so a message
    // that kills its instance ends in the dead-letter topic instead of going round for ever.
    let retries = Math.max(0, d.attempt - 1);
    let last: Outcome | undefined;
    for (let first = true; ; first = false) {
      if (this.stopping.signal.aborted) return this.handBack();
      const p = this.prepare(d, await this.target());
      const deadLetterTopic =
        (trigger.kind === 'pubsub' ? trigger.deadLetterTopic : undefined) ?? p.deadLetterTopic;
      if ('invalid' in p)
        return this.giveUp(
          d,
          deadLetterTopic,
          p.invalid,
          'SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID',
          retries + 1,
          true,
        );
      if (
        first &&
        deadLetterTopic !== undefined &&
        this.policy.maxRetries >= 0 &&
        retries > this.policy.maxRetries
      )
        return this.giveUp(
          d,
          deadLetterTopic,
          `delivered ${d.attempt - 1} times by the broker without an ack`,
          'SPROUT_ERR_TRIGGERS_DELIVERY_FAILED',
          retries,
          false,
        );
      // An open circuit breaker holds the delivery (nothing is POSTed) until it lets one through.
      // (no breaker: nothing to wait for, and no promise made per message)
      if (!('outcome' in p) && trigger.resiliency?.breaker && !(await this.admitted()))
        return this.handBack();
      last =
        'outcome' in p
          ? p.outcome
          : p.bulk && this.bulk
            ? await this.bulk.submit(p.url, d, p.request as { json: string }, p.bulk.raw, p.bulk.max)
            : await this.post(p.url, p.request, p.kind);
      if (!('outcome' in p)) trigger.resiliency?.breaker?.record(last.kind !== 'retry');
      if (last.kind === 'success') {
        await d.ack();
        this.counters.add('delivered');
        this.counters.observe(
          performance.now() - started,
          d.publishedAt === undefined ? undefined : Date.now() - d.publishedAt,
        );
        return;
      }
      if (last.kind === 'drop') {
        await d.ack();
        this.counters.add('dropped');
        this.log.warn({ id: d.id, reason: last.reason }, 'message dropped');
        return;
      }
      // An attempt cut short by close() is not the app's failure.
      if (this.stopping.signal.aborted) return this.handBack();
      this.counters.add('failed');
      // A policy's `matching.httpStatusCodes` leaves other answers unretried.
      if (!mayRetry(this.policy, retries) || !retriesStatus(this.policy, last.status))
        return this.giveUp(
          d,
          deadLetterTopic,
          last.reason,
          'SPROUT_ERR_TRIGGERS_DELIVERY_FAILED',
          retries + 1,
          false,
        );
      retries++;
      this.counters.add('retried');
      try {
        await sleep(backoffMs(this.policy, retries), undefined, { signal: this.stopping.signal });
      } catch {
        return this.handBack();
      }
    }
  }

  /** The target of the messages taken in this turn of the event loop (looked up once for all of them). */
  private turn: Promise<Target> | undefined;

  /**
   * The instance (`target.url()`) and the app's route there, asked once per turn of the event loop
   * for every message taken in it (a message taken later, or retried, asks again).
   */
  private target(): Promise<Target> {
    let t = this.turn;
    if (!t) {
      const mine = (t = this.turn = this.lookUp());
      setImmediate(() => {
        if (this.turn === mine) this.turn = undefined;
      });
    }
    return t;
  }

  private async lookUp(): Promise<Target> {
    const trigger = this.trigger;
    let base: string;
    try {
      base = trimSlashes(await this.untilStopped(this.options.target.url()));
    } catch (err) {
      return { outcome: { kind: 'retry', reason: `no instance to deliver to: ${(err as Error).message}` } };
    }
    const book = this.book;
    if (trigger.kind === 'binding' || !book) return { base };
    let route: AppRoute | undefined;
    if (!book.declarative) {
      try {
        route = await book.appRoute(base);
      } catch (err) {
        book.forget(base);
        return {
          outcome: { kind: 'retry', reason: `reading the app's subscriptions: ${(err as Error).message}` },
        };
      }
      if (!route) {
        book.forget(base);
        const reason = `the app does not subscribe to ${trigger.pubsubname}/${trigger.topic} at GET /dapr/subscribe`;
        return { outcome: { kind: 'retry', reason } };
      }
    }
    const set = book.settingsFor(route);
    if ('invalid' in set) return { outcome: { kind: 'retry', reason: set.invalid }, ...set.dlt };
    return route ? { base, route, set } : { base, set };
  }

  /**
   * Everything before the POST, once the target is known: the route's path and the request. Either
   * what to POST, or an outcome already known (no instance, no route, an expired event), or why it
   * can never be delivered.
   */
  private prepare(d: Delivery, target: Target): Prepared {
    if ('outcome' in target) return target;
    const trigger = this.trigger;
    const { base, route, set } = target;
    const book = this.book;
    if (trigger.kind === 'binding' || !book || !set)
      return { url: `${base}/${trigger.name}`, request: bindingRequest(d), kind: 'binding' };
    const { raw, dlt } = set;
    let request: ReturnType<typeof pubsubRequest>;
    try {
      request = pubsubRequest(d, trigger.pubsubname, raw);
    } catch (err) {
      if (isTriggersError(err, 'SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID'))
        return { invalid: err.message, ...dlt };
      throw err;
    }
    if (request.expired) return { outcome: { kind: 'drop', reason: `event ${request.id} expired` }, ...dlt };
    let path: string | undefined;
    try {
      path = book.pathFor(request.event, route);
    } catch (err) {
      return { outcome: { kind: 'retry', reason: (err as Error).message }, ...dlt };
    }
    // As daprd: an event no rule matches, with no default route, is dropped.
    if (path === undefined)
      return {
        outcome: {
          kind: 'drop',
          reason: `event ${request.id}: no routing rule matches and there is no default route`,
        },
        ...dlt,
      };
    const url = `${base}${path.startsWith('/') ? path : `/${path}`}`;
    return set.bulk
      ? { url, request, kind: 'pubsub', bulk: set.bulk, deadLetterTopic: dlt.deadLetterTopic }
      : { url, request, kind: 'pubsub', deadLetterTopic: dlt.deadLetterTopic };
  }

  /** `p`, or a rejection as soon as the delivery stops (a target waiting for an instance must not hold close()). */
  private untilStopped<T>(p: Promise<T>): Promise<T> {
    if (this.stopping.signal.aborted) return Promise.reject(new Error('stopping'));
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      p.then(
        (v) => {
          this.waiting.delete(reject);
          resolve(v);
        },
        (err: unknown) => {
          this.waiting.delete(reject);
          reject(err as Error);
        },
      );
    });
  }

  /** Waits while the trigger's circuit breaker is open; false: the delivery is stopping. */
  private async admitted(): Promise<boolean> {
    try {
      await this.trigger.resiliency?.breaker?.admitted(this.stopping.signal);
      return true;
    } catch {
      return false;
    }
  }

  private post(url: string, req: AppRequest, kind: 'pubsub' | 'binding'): Promise<Outcome> {
    return deliverToApp(url, req, this.timeoutMs, kind, this.stopping.signal, this.agent);
  }

  /** After the last retry (or at once for a payload that can never be delivered). */
  private async giveUp(
    d: Delivery,
    deadLetterTopic: string | undefined,
    reason: string,
    code: string,
    attempts: number,
    undeliverable: boolean,
  ): Promise<void> {
    if (this.trigger.kind === 'pubsub' && deadLetterTopic !== undefined) {
      try {
        await this.trigger.engine.publish(deadLetterTopic, d.data, {
          ...d.metadata,
          [DEAD_LETTER_METADATA.reason]: reason,
          [DEAD_LETTER_METADATA.code]: code,
          [DEAD_LETTER_METADATA.topic]: d.topic,
          [DEAD_LETTER_METADATA.attempts]: String(attempts),
        });
      } catch (err) {
        this.log.error(
          { id: d.id, err: (err as Error).message },
          `publishing to dead-letter topic ${deadLetterTopic} failed`,
        );
        return this.requeue(d, backoffMs(this.policy, attempts));
      }
      await d.ack();
      this.counters.add('deadLettered');
      this.log.warn({ id: d.id, reason, deadLetterTopic }, 'message dead-lettered');
      return;
    }
    if (undeliverable) {
      // It would fail the same way every time: handing it back would block nothing but loop for ever.
      await d.ack();
      this.counters.add('dropped');
      this.log.warn(
        { id: d.id, reason },
        'message dropped: it cannot be delivered and there is no dead-letter topic',
      );
      return;
    }
    this.log.warn(
      { id: d.id, reason },
      'retries exhausted and no dead-letter topic: handed back to the broker',
    );
    return this.requeue(d, backoffMs(this.policy, attempts));
  }

  /** Stopping: left unsettled, so closing the subscription gives it back to the broker (counted once). */
  private handBack(): void {
    this.counters.add('requeued');
  }

  private async requeue(d: Delivery, delayMs: number): Promise<void> {
    this.counters.add('requeued');
    await d.nack(delayMs > 0 ? delayMs : undefined);
  }
}

/** The URL without its trailing slashes (no regular expression per message). */
function trimSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 47) end--;
  return end === url.length ? url : url.slice(0, end);
}
