import { Counter, Gauge, Histogram, type Metric, type Registry } from '@sprout/observe/metrics';

/** Why the gateway answered for an instance instead of forwarding (bounded label values). */
export type RejectReason =
  | 'queue_full'
  | 'readiness_timeout'
  | 'response_header_timeout'
  | 'upstream_failed'
  | 'client_gone'
  | 'closing';

/** Live numbers of one function the metrics read at scrape time. */
export interface FunctionGaugeSource {
  readonly name: string;
  pending(): number;
  concurrency(): number;
  rate(): number;
  desiredReplicas(): number;
  readyInstances(): number;
  /** Requests finished, by status class: index 0 = no status (client left first), 1–5 = 1xx–5xx. */
  readonly byClass: readonly number[];
  readonly rejected: Readonly<Partial<Record<RejectReason, number>>>;
  /** Durations of its HTTP requests. */
  readonly durations: DurationCounts;
}

/** Upper bounds of the request duration histogram, seconds. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * One function's request durations as a histogram's numbers, kept as plain numbers so an
 * observation is a few comparisons (prom-client's labelled `observe` builds and hashes the label
 * set each time); the registry reads them when scraped.
 */
export class DurationCounts {
  /** Observations per bucket, not cumulative; the last is above every bound. */
  readonly buckets = new Float64Array(REQUEST_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < REQUEST_BUCKETS.length && seconds > REQUEST_BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** A labelled value as prom-client's registry reads it from a metric's `get()`. */
interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * `sprout_gateway_request_duration_seconds` read from each function's `DurationCounts` at scrape
 * time, in the shape (and text) of a prom-client histogram.
 */
class DurationHistogram {
  readonly name = 'sprout_gateway_request_duration_seconds';
  readonly help =
    'From a routed HTTP request arriving to its response finishing (or the client leaving), held time included.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(private readonly sources: () => Iterable<FunctionGaugeSource>) {}

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const s of this.sources()) {
      const d = s.durations;
      const bucket = `${this.name}_bucket`;
      let acc = 0;
      REQUEST_BUCKETS.forEach((le, i) => {
        acc += d.buckets[i]!;
        values.push({ labels: { le, function: s.name }, value: acc, metricName: bucket });
      });
      values.push(
        { labels: { le: '+Inf', function: s.name }, value: d.count, metricName: bucket },
        { labels: { function: s.name }, value: d.sum, metricName: `${this.name}_sum` },
        { labels: { function: s.name }, value: d.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The counts belong to the functions (`Registry.resetMetrics` leaves them). */
  reset(): void {}
}

/** The gateway's metrics, labelled by function name only (plus a status class or reason). */
export interface GatewayMetrics {
  unrouted: Counter;
  coldStarts: Counter<'function'>;
  coldStartSeconds: Histogram<'function'>;
}

/** Registers the gateway's metrics on `registry`; gauges read `sources()` when scraped. */
export function createGatewayMetrics(
  registry: Registry,
  sources: () => Iterable<FunctionGaugeSource>,
): GatewayMetrics {
  const gauge = (name: string, help: string, read: (s: FunctionGaugeSource) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['function'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sources()) this.set({ function: s.name }, read(s));
      },
    });
  gauge('sprout_gateway_pending_requests', 'Requests held while the function has no ready instance.', (s) =>
    s.pending(),
  );
  gauge('sprout_gateway_concurrency', 'Requests in flight to the function plus requests held for it.', (s) =>
    s.concurrency(),
  );
  gauge('sprout_gateway_request_rate', 'Requests per second over the function scaling rate window.', (s) =>
    s.rate(),
  );
  gauge('sprout_gateway_desired_replicas', 'Replicas the scaler last asked the supervisor for.', (s) =>
    s.desiredReplicas(),
  );
  gauge('sprout_gateway_ready_instances', 'Instances the supervisor reports ready.', (s) =>
    s.readyInstances(),
  );
  registry.registerMetric(new DurationHistogram(sources) as unknown as Metric);
  // Per-request counts are plain numbers on each function, read at scrape time: no label hashing
  // on the request path.
  new Counter({
    name: 'sprout_gateway_requests_total',
    help: 'Requests routed to a function, by response status class.',
    labelNames: ['function', 'code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources()) {
        s.byClass.forEach((n, cls) => {
          if (n > 0) this.inc({ function: s.name, code: cls === 0 ? 'none' : `${cls}xx` }, n);
        });
      }
    },
  });
  new Counter({
    name: 'sprout_gateway_rejected_total',
    help: 'Requests the gateway answered itself (or dropped) instead of forwarding, by reason.',
    labelNames: ['function', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources()) {
        for (const [reason, n] of Object.entries(s.rejected))
          if (n) this.inc({ function: s.name, reason }, n);
      }
    },
  });
  return {
    unrouted: new Counter({
      name: 'sprout_gateway_unrouted_requests_total',
      help: 'Requests that matched no route (404).',
      registers: [registry],
    }),
    coldStarts: new Counter({
      name: 'sprout_gateway_cold_starts_total',
      help: 'Times a function went from no ready instance, with requests held, to ready.',
      labelNames: ['function'],
      registers: [registry],
    }),
    coldStartSeconds: new Histogram({
      name: 'sprout_gateway_cold_start_seconds',
      help: 'From the first held request to the first ready instance.',
      labelNames: ['function'],
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
  };
}
