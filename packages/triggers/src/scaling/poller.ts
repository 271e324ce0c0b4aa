import { LagDecider, type Demand, type LagDecision, type LagPolicy } from './decide.js';
import { readingOf, type LagTrigger, type TriggerReading, type TriggerSample } from './metric.js';
import { PublishRateEstimator } from './rate.js';

export interface LagPollerOptions {
  /** The function scaled (for reasons and events). */
  readonly name: string;
  readonly policy: LagPolicy;
  readonly triggers: readonly LagTrigger[];
  /** Measures one trigger (the platform reads the trigger's `Subscription.lag()` here). */
  measure(trigger: LagTrigger): Promise<TriggerSample>;
  /**
   * Demand from other scalers of the same function, fed into the same decision: the platform
   * passes the gateway's HTTP scaler here (`{source: 'http', replicas: d.demand, active: d.demand > 0}`)
   * so one path decides a function's replicas, whatever asks for them.
   */
  otherDemand?(): readonly Demand[];
  /** Replicas the function runs now. */
  current(): number;
  /** Called on every decision whose replicas differ from `current()`. */
  scaleTo(replicas: number, reason: string): void;
  /** Every poll's readings and decision (for the event stream, the REST API and /metrics). */
  onDecision?(decision: LagDecision, readings: readonly TriggerReading[]): void;
  /** A trigger that could not be measured this poll (it counts as inactive, value 0). */
  onError?(trigger: LagTrigger, err: unknown): void;
  /** Wall clock in ms (cron triggers read the time of day from it); default Date.now. */
  clock?(): number;
}

/**
 * Polls a function's triggers every `pollingInterval`, decides with `LagDecider` and asks for the
 * replicas. `poke()` polls at once (the platform calls it when a message arrives for a function at
 * zero, so the first message does not wait a polling interval).
 */
export class LagPoller {
  private readonly decider: LagDecider;
  /** rabbitmq MessageRate triggers measured without a publish rate: one estimator each. */
  private readonly rates = new Map<string, PublishRateEstimator>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<LagDecision> | undefined;
  private closed = false;

  constructor(private readonly o: LagPollerOptions) {
    this.decider = new LagDecider(o.policy);
  }

  start(): void {
    if (this.closed || this.timer) return;
    this.timer = setInterval(() => void this.poke(), this.o.policy.pollingIntervalMs);
    this.timer.unref();
    void this.poke();
  }

  /** Polls now (joins a poll already under way) and resolves with its decision. */
  poke(): Promise<LagDecision> {
    this.running ??= this.poll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async poll(): Promise<LagDecision> {
    const clock = this.o.clock ?? Date.now;
    const running = this.o.current();
    const readings = await Promise.all(
      this.o.triggers.map(async (t) => {
        let sample: TriggerSample = {};
        if (!t.cron) {
          try {
            sample = await this.o.measure(t);
          } catch (err) {
            this.o.onError?.(t, err);
          }
        }
        if (t.metric === 'MessageRate' && sample.publishRate === undefined)
          sample = this.withRate(t, sample, clock());
        return readingOf(t, sample, new Date(clock()), running);
      }),
    );
    const demands: Demand[] = readings.map((r) => ({
      source: `${r.type} ${r.trigger}`,
      replicas: r.replicas,
      active: r.active,
      value: r.value,
    }));
    demands.push(...(this.o.otherDemand?.() ?? []));
    const current = this.o.current();
    const decision = this.decider.decide(clock(), current, demands);
    this.o.onDecision?.(decision, readings);
    if (!this.closed && decision.replicas !== current) this.o.scaleTo(decision.replicas, decision.reason);
    return decision;
  }

  /** The publish rate derived from the queue's depth and the consumer's acks (0 until two readings). */
  private withRate(t: LagTrigger, sample: TriggerSample, now: number): TriggerSample {
    if (sample.lag === undefined || sample.settled === undefined) return sample;
    let rate = this.rates.get(t.name);
    if (!rate) this.rates.set(t.name, (rate = new PublishRateEstimator()));
    return { ...sample, publishRate: rate.sample(sample.lag, sample.settled, now) ?? 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
