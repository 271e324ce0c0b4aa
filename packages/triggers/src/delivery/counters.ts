/** Upper bounds (ms) of the latency buckets; a last bucket holds everything slower. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000] as const;

/** A latency histogram as plain data: `buckets[i]` counts values ≤ `LATENCY_BUCKETS_MS[i]` (not cumulative). */
export interface LatencyHistogram {
  count: number;
  sumMs: number;
  maxMs: number;
  buckets: number[];
}

/** One trigger's counts, as plain data (what metrics and the event stream will read). */
export interface TriggerCounts {
  /** Acked after the app took it (2xx, SUCCESS). */
  delivered: number;
  /** Attempts that did not succeed (error, timeout, RETRY, a status other than 2xx/404). */
  failed: number;
  /** Retries made after a failed attempt. */
  retried: number;
  /** Published to the dead-letter topic after the last retry, then acked. */
  deadLettered: number;
  /** Acked without the app taking it: DROP, 404, an expired event, a payload that cannot be delivered with no dead-letter topic. */
  dropped: number;
  /** Handed back to the broker unacked (no dead-letter topic, or it failed). */
  requeued: number;
  /** Taken from the broker and not yet settled. */
  inFlight: number;
  /** Times the broker connection came back after a loss and the engine consumed again. */
  reconnects: number;
  /** Time from taking a message to settling it, for delivered messages. */
  latency: LatencyHistogram;
  /**
   * Time from the broker storing a message to its ack after the app took it, for delivered messages
   * that carry when (`Delivery.publishedAt`: Redis Streams, JetStream, in-memory; RabbitMQ's
   * publish time; not MQTT 3).
   */
  endToEnd: LatencyHistogram;
}

const histogram = (): LatencyHistogram => ({
  count: 0,
  sumMs: 0,
  maxMs: 0,
  buckets: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
});

function record(l: LatencyHistogram, ms: number): void {
  l.count++;
  l.sumMs += ms;
  l.maxMs = Math.max(l.maxMs, ms);
  let i = 0;
  while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
  l.buckets[i]!++;
}

const copy = (l: LatencyHistogram): LatencyHistogram => ({ ...l, buckets: [...l.buckets] });

/** Counts for one trigger; `snapshot()` is a copy. */
export class TriggerCounters {
  private readonly c: TriggerCounts = {
    delivered: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    dropped: 0,
    requeued: 0,
    inFlight: 0,
    reconnects: 0,
    latency: histogram(),
    endToEnd: histogram(),
  };

  add(key: Exclude<keyof TriggerCounts, 'latency' | 'endToEnd'>, n = 1): void {
    this.c[key] += n;
  }

  /** A delivered message: `ms` since it was taken, and since the broker stored it when known. */
  observe(ms: number, sincePublishMs?: number): void {
    record(this.c.latency, ms);
    // Clocks of broker and this process may differ by a little: a negative span reads as 0.
    if (sincePublishMs !== undefined && Number.isFinite(sincePublishMs))
      record(this.c.endToEnd, Math.max(0, sincePublishMs));
  }

  snapshot(): TriggerCounts {
    return { ...this.c, latency: copy(this.c.latency), endToEnd: copy(this.c.endToEnd) };
  }
}
