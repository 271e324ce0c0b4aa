import type { Logger } from '@sprout/observe';
import type { ResiliencyDocument, ResolvedFunction, SubscriptionDocument } from '@sprout/spec';
import {
  FunctionDelivery,
  LagPoller,
  lagScalingOf,
  ResiliencyPolicies,
  triggersFor,
  type Demand,
  type LagDecision,
  type LagTrigger,
  type Trigger,
  type TriggerCounts,
  type TriggerEngines,
  type TriggerReading,
} from '@sprout/triggers';
import type { FunctionRunner } from './runner.js';
import type { LagRoute } from './upstream.js';

/** KEDA scaler type → the pub/sub engine types whose lag it reads. */
const SCALER_BROKERS: Readonly<Record<string, readonly string[]>> = {
  'nats-jetstream': ['pubsub.jetstream'],
  'redis-streams': ['pubsub.redis'],
  rabbitmq: ['pubsub.rabbitmq'],
  mqtt: ['pubsub.mqtt3'],
};

/** Deliveries in flight at once per function when nothing says otherwise. */
const MAX_IN_FLIGHT = 100;

/** One trigger of an async function as the REST API and the event stream show it. */
export interface TriggerView extends Omit<TriggerCounts, 'latency' | 'endToEnd'> {
  /** Messages the broker holds for the trigger at the last poll (undefined: the broker cannot tell). */
  lag?: number;
}

export interface AsyncFunctionOptions {
  runner: FunctionRunner;
  engines: TriggerEngines;
  subscriptions?: readonly SubscriptionDocument[];
  /** Dapr Resiliency documents: the inbound policies of the function's components (scoped to its name). */
  resiliency?: readonly ResiliencyDocument[];
  logger: Logger;
  /** Every poll's decision (the lag metrics record it). */
  onDecision?(decision: LagDecision, readings: readonly TriggerReading[]): void;
  /** After a poll whose triggers' lag or counts differ from the last one said. */
  onStatus?(triggers: Record<string, TriggerView>): void;
}

/**
 * An async function in `sprout dev`: its `serving.triggers.dapr` inputs delivered by the delivery
 * engine to its instances, and its replicas decided by one `LagPoller` that reads the KEDA triggers,
 * the deliveries in flight (a message taken at zero instances waits for one, so it asks for one)
 * and the gateway's HTTP demand.
 */
export class AsyncFunction implements LagRoute {
  private http = 0;
  private next = 0;
  private lags: Record<string, number | undefined> = {};
  private shown = '';
  private readonly closing = new AbortController();

  private constructor(
    private readonly o: AsyncFunctionOptions,
    private readonly triggers: readonly Trigger[],
    private readonly poller: LagPoller,
    private delivery: FunctionDelivery | undefined,
  ) {}

  static async start(o: AsyncFunctionOptions): Promise<AsyncFunction> {
    const def = o.runner.def;
    const triggers = triggersFor(def, o.engines, {
      ...(o.subscriptions ? { subscriptions: o.subscriptions } : {}),
      ...(o.resiliency?.length
        ? {
            resiliency: new ResiliencyPolicies(o.resiliency, def.name, (component, direction, from, to) =>
              o.logger.warn({ function: def.name, component, direction, from, to }, 'circuit breaker'),
            ),
          }
        : {}),
    });
    const scaling = lagScalingOf(def)!;
    // The poller and the target call back into the instance built after them.
    const ref: { self?: AsyncFunction } = {};
    const poller = new LagPoller({
      name: def.name,
      policy: scaling.policy,
      triggers: scaling.triggers,
      measure: async (t) => ({ lag: await ref.self!.lagFor(t), settled: ref.self!.settledFor(t) }),
      otherDemand: () => ref.self!.demands(),
      current: () => o.runner.status().desiredReplicas,
      scaleTo: (replicas, reason) => void o.runner.scaleTo(replicas, reason, 'triggers'),
      onDecision: (decision, readings) => {
        o.onDecision?.(decision, readings);
        void ref.self!.refresh();
      },
      onError: (t, err) =>
        o.logger.warn({ function: def.name, trigger: t.name, err: (err as Error).message }, 'lag not read'),
    });
    const self = (ref.self = new AsyncFunction(o, triggers, poller, undefined));
    self.delivery = await FunctionDelivery.start(triggers, {
      target: { url: () => self.instanceUrl() },
      maxInFlight: Math.min(MAX_IN_FLIGHT, def.scaling.targetConcurrency),
      log: o.logger.child({ function: def.name }),
    });
    poller.start();
    return self;
  }

  get def(): ResolvedFunction {
    return this.o.runner.def;
  }

  /** The gateway's count, fed into the same decision (see `ScalePaths`). */
  httpDemand(replicas: number): void {
    this.http = replicas;
    void this.poller.poke();
  }

  /** The triggers' counts and the lag read at the last poll, by trigger name. */
  view(): Record<string, TriggerView> {
    const counts = this.delivery?.counts() ?? {};
    return Object.fromEntries(
      Object.entries(counts).map(([name, c]) => {
        const { latency: _l, endToEnd: _e, ...rest } = c;
        const lag = this.lags[name];
        return [name, { ...rest, ...(lag !== undefined ? { lag } : {}) }];
      }),
    );
  }

  /** Each input trigger's lag at the last poll (undefined: the broker cannot tell), for /metrics. */
  lagsRead(): Readonly<Record<string, number | undefined>> {
    return this.lags;
  }

  counts(): Record<string, TriggerCounts> {
    return this.delivery?.counts() ?? {};
  }

  /** The LagTriggers polled (for forgetting their metrics). */
  lagTriggers(): readonly LagTrigger[] {
    return lagScalingOf(this.def)?.triggers ?? [];
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.poller.close();
    await this.delivery?.close();
  }

  private demands(): Demand[] {
    const inFlight = Object.values(this.counts()).reduce((n, c) => n + c.inFlight, 0);
    const out: Demand[] = [];
    if (inFlight > 0)
      out.push({ source: 'deliveries in flight', replicas: 1, active: true, value: inFlight });
    if (this.http > 0) out.push({ source: 'http', replicas: this.http, active: true, value: this.http });
    return out;
  }

  /** The triggers a KEDA trigger reads: those on its broker type (all, if none is). */
  private triggersOf(t: LagTrigger): readonly Trigger[] {
    const types = SCALER_BROKERS[t.type] ?? [];
    const own = this.triggers.filter((tr) => types.includes(tr.engine.type));
    return own.length ? own : this.triggers;
  }

  /** Messages its triggers settled from the broker so far (the rabbitmq MessageRate estimate reads it). */
  private settledFor(t: LagTrigger): number {
    const counts = this.counts();
    return this.triggersOf(t).reduce((n, tr) => {
      const c = counts[tr.name];
      return n + (c ? c.delivered + c.deadLettered + c.dropped : 0);
    }, 0);
  }

  /** A KEDA trigger's value: lag plus in flight over the triggers on its broker type (all, if none is). */
  private async lagFor(t: LagTrigger): Promise<number> {
    const counts = this.counts();
    const lags = (this.lags = (await this.delivery?.lag()) ?? {});
    return this.triggersOf(t).reduce(
      (n, tr) => n + (lags[tr.name] ?? 0) + (counts[tr.name]?.inFlight ?? 0),
      0,
    );
  }

  private async refresh(): Promise<void> {
    try {
      this.lags = (await this.delivery?.lag()) ?? {};
    } catch (err) {
      this.o.logger.warn({ function: this.def.name, err: (err as Error).message }, 'lag not read');
    }
    // Said when something changed, not every poll: the event stream keeps only the last 500.
    const view = this.view();
    const text = JSON.stringify(view);
    if (text === this.shown) return;
    this.shown = text;
    this.o.onStatus?.(view);
  }

  /**
   * A ready instance's base URL, round robin. With none ready the delivery waits (it is in flight,
   * so the poller, poked now, asks for an instance) until one is, up to the readiness timeout.
   */
  private async instanceUrl(): Promise<string> {
    const runner = this.o.runner;
    let ready = runner.readyInstances();
    if (!ready.length) {
      if (this.closing.signal.aborted) throw new Error('sprout dev is stopping');
      void this.poller.poke();
      ready = await new Promise((resolve, reject) => {
        const ms = this.def.readinessTimeoutMs;
        const done = (err?: Error) => {
          clearTimeout(timer);
          off();
          this.closing.signal.removeEventListener('abort', aborted);
          if (err) reject(err);
          else resolve(runner.readyInstances());
        };
        const aborted = () => done(new Error('sprout dev is stopping'));
        const timer = setTimeout(() => done(new Error(`no instance became ready within ${ms} ms`)), ms);
        const off = runner.onInstancesChanged(() => {
          if (runner.readyInstances().length) done();
        });
        this.closing.signal.addEventListener('abort', aborted);
        if (runner.readyInstances().length) done();
      });
    }
    const inst = ready[this.next++ % ready.length]!.info;
    const host = inst.host.includes(':') ? `[${inst.host}]` : inst.host;
    return `http://${host}:${inst.port}`;
  }
}
