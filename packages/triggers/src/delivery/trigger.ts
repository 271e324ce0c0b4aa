import { setMaxListeners } from 'node:events';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '@sprout/observe';
import type { Delivery, Subscription } from '../broker.js';
import { isRawPayload } from '../api/envelope.js';
import { TriggersError } from '../errors.js';
import { BulkSender, type EntryRequest } from './bulk.js';
import { deliverToApp, type Outcome } from './callback.js';
import { TriggerCounters, type TriggerCounts } from './counters.js';
import { backoffMs, mayRetry, readRetryPolicy, retriesStatus, type RetryPolicy } from './policy.js';
import type { AppRequest } from './envelope.js';
import { prepare, type Prepared, type Target } from './prepare.js';
import { RouteBook } from './route-book.js';
import { TargetLookup } from './target-lookup.js';
import type { DeliveryOptions, Trigger } from './trigger-types.js';

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
  /** Deliveries taken and not settled: close() waits for them (`drained`). */
  private active = 0;
  private drained: (() => void) | undefined;
  /** Messages taken in this turn of the event loop, waiting together for the target. */
  private taken: { ds: Delivery[]; at: number[] } | undefined;
  private subscription: Subscription | undefined;
  /** Pub/sub only: gathers deliveries into bulk requests when the subscription is bulk. */
  private readonly bulk: BulkSender | undefined;
  /** Pub/sub only: where its messages go (routes per instance, rules, what a route implies). */
  private readonly book: RouteBook | undefined;
  /** Where the messages go: the instance and the app's route there, asked once per turn. */
  private readonly targets: TargetLookup;

  private constructor(
    readonly trigger: Trigger,
    private readonly options: DeliveryOptions,
  ) {
    this.policy = trigger.resiliency?.retry ?? readRetryPolicy(options.retry);
    this.timeoutMs = trigger.resiliency?.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Every delivery in flight listens for the stop while it waits for an instance, POSTs or backs
    // off: many at once is expected, not a leak (Node warns past 10).
    setMaxListeners(3 * Math.max(1, Math.floor(options.maxInFlight)) + 10, this.stopping.signal);
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
        answered: () => this.ackAnswered(),
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
    this.targets = new TargetLookup(trigger, this.book, options.target, this.stopping.signal);
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
    if (this.active > 0) await new Promise<void>((r) => (this.drained = r));
    await this.subscription?.close();
    this.agent.destroy();
  }

  private take(d: Delivery): void {
    // Stopping: left unsettled, the broker takes it back when the subscription closes.
    if (this.stopping.signal.aborted) return;
    this.active++;
    this.counters.add('inFlight');
    let turn = this.taken;
    if (!turn) {
      const mine = (turn = this.taken = { ds: [], at: [] });
      void this.targets.get().then((t) => {
        if (this.taken === mine) this.taken = undefined;
        for (let i = 0; i < mine.ds.length; i++) this.first(mine.ds[i]!, mine.at[i]!, t);
      });
    }
    turn.ds.push(d);
    turn.at.push(performance.now());
  }

  /**
   * A message's first attempt. The usual one (a bulk subscription, no circuit breaker, first
   * delivery) joins its bulk request as a `FirstAttempt` and is acked with the other successes of
   * its bulk answer (`ackAnswered`): no promise chain per message. Anything else, and any answer but
   * success, goes on in `run` (retries, dead letters).
   */
  private first(d: Delivery, started: number, t: Target): void {
    try {
      const p = prepare(this.trigger, this.book, d, t);
      if (
        'url' in p &&
        p.bulk &&
        this.bulk &&
        d.attempt === 1 &&
        !this.trigger.resiliency?.breaker &&
        !this.stopping.signal.aborted
      ) {
        const a = new FirstAttempt(d, started, p);
        this.bulk.add(p.url, d, p.request as EntryRequest, p.bulk.raw, p.bulk.max, this.answer, a);
        return;
      }
      this.finish(d, this.run(d, started, { p }));
    } catch (err) {
      this.failed(d, err);
    }
  }

  /** A first attempt's bulk outcome: a success waits for the rest of its answer (`ackAnswered`). */
  private readonly answer = (last: Outcome, token: unknown): void => {
    const a = token as FirstAttempt;
    if (last.kind === 'success') this.succeeded.push(a);
    else this.finish(a.d, this.run(a.d, a.started, { p: a.p, last }));
  };

  /** First attempts of the bulk answer being read that succeeded: acked together once it is read. */
  private succeeded: FirstAttempt[] = [];

  /**
   * Acks the successes of one bulk answer. An engine that acks them together hands each the same
   * promise (one XACK, or JetStream's acks that are settled once published): one reaction per such
   * promise, not per message, counts them delivered.
   */
  private ackAnswered(): void {
    const list = this.succeeded;
    if (list.length === 0) return;
    this.succeeded = [];
    let group: FirstAttempt[] = [];
    let acked: Promise<void> | undefined;
    for (const a of list) {
      let p: Promise<void>;
      try {
        p = a.d.ack();
      } catch (err) {
        this.failed(a.d, err);
        continue;
      }
      if (p !== acked) {
        if (acked) this.whenAcked(acked, group);
        acked = p;
        group = [];
      }
      group.push(a);
    }
    if (acked) this.whenAcked(acked, group);
  }

  private whenAcked(acked: Promise<void>, group: readonly FirstAttempt[]): void {
    acked.then(
      () => {
        const now = performance.now();
        const wall = Date.now();
        for (const a of group) {
          this.delivered(a.d, a.started, now, wall);
          this.settle();
        }
      },
      (err: unknown) => {
        for (const a of group) this.failed(a.d, err);
      },
    );
  }

  private finish(d: Delivery, run: Promise<void>): void {
    run.then(
      () => this.settle(),
      (err: unknown) => this.failed(d, err),
    );
  }

  private failed(d: Delivery, err: unknown): void {
    this.settle();
    this.log.error({ err: (err as Error).message, id: d.id }, 'delivery failed unexpectedly');
  }

  private settle(): void {
    this.counters.add('inFlight', -1);
    if (--this.active === 0 && this.drained) this.drained();
  }

  private delivered(d: Delivery, started: number, now = performance.now(), wall = Date.now()): void {
    this.counters.add('delivered');
    this.counters.observe(now - started, d.publishedAt === undefined ? undefined : wall - d.publishedAt);
  }

  /** The attempts of one message; `known`: its first one already prepared (and answered). */
  private async run(d: Delivery, started: number, known?: { p: Prepared; last?: Outcome }): Promise<void> {
    const trigger = this.trigger;
    // A broker that counts deliveries tells how many attempts went before (an instance killed while
    // handling it, say): with a dead-letter topic those count against the retry budget, so a message
    // that kills its instance ends in the dead-letter topic instead of going round for ever.
    let retries = Math.max(0, d.attempt - 1);
    let last: Outcome | undefined;
    for (let first = true; ; first = false) {
      if (this.stopping.signal.aborted) return this.handBack();
      const p = known?.p ?? prepare(this.trigger, this.book, d, await this.targets.get());
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
      if (!known?.last && !('outcome' in p) && trigger.resiliency?.breaker && !(await this.admitted()))
        return this.handBack();
      last =
        known?.last ??
        ('outcome' in p
          ? p.outcome
          : p.bulk && this.bulk
            ? await this.bulk.submit(p.url, d, p.request as EntryRequest, p.bulk.raw, p.bulk.max)
            : await this.post(p.url, p.request, p.kind));
      if (!known?.last && !('outcome' in p)) trigger.resiliency?.breaker?.record(last.kind !== 'retry');
      known = undefined;
      if (last.kind === 'success') {
        await d.ack();
        return this.delivered(d, started);
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

/** A message's first attempt in a bulk request, waiting for its answer. */
class FirstAttempt {
  constructor(
    readonly d: Delivery,
    readonly started: number,
    readonly p: Prepared,
  ) {}
}
