import { Counter, Gauge, type Registry } from '@sprout/observe/metrics';
import type { TriggerCounts } from '@sprout/triggers';

type Source = () => Iterable<readonly [fn: string, counts: Record<string, TriggerCounts>]>;
/** Each async function's lag at its last poll, by trigger name (undefined: the broker cannot tell). */
type LagSource = () => Iterable<readonly [fn: string, lags: Readonly<Record<string, number | undefined>>]>;

const COUNTERS = [
  ['delivered', 'Messages acked after the function took them'],
  ['failed', 'Delivery attempts that did not succeed (error, timeout, RETRY)'],
  ['retried', 'Retries made after a failed attempt'],
  ['deadLettered', 'Messages published to the dead-letter topic after the last retry'],
  ['dropped', 'Messages acked without the function taking them (DROP, 404, expired, undeliverable)'],
  ['reconnects', 'Times the broker connection came back after a loss and the trigger consumed again'],
] as const;

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The delivery engine's counts of every async function in `registry`, read at scrape time:
 * `sprout_triggers_<delivered|failed|retried|dead_lettered|dropped|reconnects>_total`,
 * `sprout_triggers_in_flight` and `sprout_triggers_lag` (what the broker holds for each Dapr input
 * at the last poll, with or without a KEDA trigger on it; no series where the broker cannot tell),
 * labelled by function and trigger name (both from the functions' own configuration, so the label
 * sets stay bounded; a function removed leaves the series).
 */
export function registerDeliveryMetrics(registry: Registry, source: Source, lags: LagSource): void {
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
  new Gauge({
    name: 'sprout_triggers_lag',
    help: 'Messages the broker holds for a Dapr input trigger, read at the last poll',
    labelNames: ['function', 'trigger'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [fn, byTrigger] of lags())
        for (const [trigger, lag] of Object.entries(byTrigger))
          if (lag !== undefined) this.set({ function: fn, trigger }, lag);
    },
  });
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

const HISTOGRAMS = [
  [
    'sprout_triggers_delivery_duration_seconds',
    'latency',
    'Time from taking a message from the broker to settling it, for delivered messages',
  ],
  [
    'sprout_triggers_end_to_end_seconds',
    'endToEnd',
    'Time from a message being stored (published, on RabbitMQ) to its ack after the function took it, where the message carries when: Redis Streams, JetStream, RabbitMQ (not MQTT 3)',
  ],
] as const;

/**
 * Two histograms by function and trigger, for delivered messages, as Prometheus text:
 * `sprout_triggers_delivery_duration_seconds` (taken from the broker → settled) and
 * `sprout_triggers_end_to_end_seconds` (stored by the broker → acked after the function took it,
 * where the message carries when). The delivery engine keeps the bucket counts (upper bounds
 * `bucketsMs`, its `LATENCY_BUCKETS_MS`), so they are written here rather than observed again.
 */
export function deliveryDurationText(source: Source, bucketsMs: readonly number[]): string {
  const lines: string[] = [];
  for (const [name, key, help] of HISTOGRAMS) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [fn, counts] of source()) {
      for (const [trigger, c] of Object.entries(counts)) {
        const h = c[key];
        const labels = `function="${escape(fn)}",trigger="${escape(trigger)}"`;
        let cumulative = 0;
        bucketsMs.forEach((ms, i) => {
          cumulative += h.buckets[i] ?? 0;
          lines.push(`${name}_bucket{${labels},le="${ms / 1000}"} ${cumulative}`);
        });
        lines.push(`${name}_bucket{${labels},le="+Inf"} ${h.count}`);
        lines.push(`${name}_sum{${labels}} ${h.sumMs / 1000}`);
        lines.push(`${name}_count{${labels}} ${h.count}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
