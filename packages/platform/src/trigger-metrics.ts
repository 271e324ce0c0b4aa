import { Counter, Gauge, type Registry } from '@sprout/observe/metrics';
import type { TriggerCounts } from '@sprout/triggers';

type Source = () => Iterable<[fn: string, counts: Record<string, TriggerCounts>]>;

const COUNTERS = [
  ['delivered', 'Messages acked after the function took them'],
  ['failed', 'Delivery attempts that did not succeed (error, timeout, RETRY)'],
  ['retried', 'Retries made after a failed attempt'],
  ['deadLettered', 'Messages published to the dead-letter topic after the last retry'],
  ['dropped', 'Messages acked without the function taking them (DROP, 404, expired, undeliverable)'],
] as const;

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The delivery engine's counts of every async function in `registry`, read at scrape time:
 * `sprout_triggers_<delivered|failed|retried|dead_lettered|dropped>_total` and
 * `sprout_triggers_in_flight`, labelled by function and trigger name (both from the functions'
 * own configuration, so the label sets stay bounded; a function removed leaves the series).
 */
export function registerDeliveryMetrics(registry: Registry, source: Source): void {
  for (const [key, help] of COUNTERS) {
    new Counter({
      name: `sprout_triggers_${snake(key)}_total`,
      help,
      labelNames: ['function', 'trigger'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [fn, counts] of source())
          for (const [trigger, c] of Object.entries(counts)) this.inc({ function: fn, trigger }, c[key]);
      },
    });
  }
  new Gauge({
    name: 'sprout_triggers_in_flight',
    help: 'Messages taken from the broker and not yet settled',
    labelNames: ['function', 'trigger'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [fn, counts] of source())
        for (const [trigger, c] of Object.entries(counts)) this.set({ function: fn, trigger }, c.inFlight);
    },
  });
}
