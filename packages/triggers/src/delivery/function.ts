import type { TriggerCounts } from './counters.js';
import type { DeliveryOptions, Trigger } from './trigger-types.js';
import { TriggerDelivery } from './trigger.js';

/**
 * Every trigger of one function, delivered to the same target with the same bounds and policy:
 * what the platform holds per async function.
 *
 * @example
 * const fn = await FunctionDelivery.start([{ kind: 'pubsub', name: 'orders', pubsubname: 'bus',
 *   engine: bus, topic: 'orders', group: 'orders-fn' }], { target, maxInFlight: 10 });
 * fn.counts().orders; // { delivered, failed, retried, deadLettered, dropped, requeued, inFlight, reconnects, latency }
 * await fn.close();
 */
export class FunctionDelivery {
  private constructor(private readonly triggers: TriggerDelivery[]) {}

  static async start(triggers: readonly Trigger[], options: DeliveryOptions): Promise<FunctionDelivery> {
    const started: TriggerDelivery[] = [];
    try {
      for (const t of triggers) started.push(await TriggerDelivery.start(t, options));
    } catch (err) {
      await Promise.allSettled(started.map((s) => s.close()));
      throw err;
    }
    return new FunctionDelivery(started);
  }

  /** Counts per trigger name, as plain data. */
  counts(): Record<string, TriggerCounts> {
    return Object.fromEntries(this.triggers.map((t) => [t.trigger.name, t.counts()]));
  }

  /** Broker lag per trigger name (undefined where the broker cannot tell). */
  async lag(): Promise<Record<string, number | undefined>> {
    const lags = await Promise.all(this.triggers.map((t) => t.lag()));
    return Object.fromEntries(this.triggers.map((t, i) => [t.trigger.name, lags[i]]));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.triggers.map((t) => t.close()));
  }
}
