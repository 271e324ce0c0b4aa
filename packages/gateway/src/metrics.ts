import { Counter, Gauge, Histogram, type Registry } from '@sprout/observe/metrics';

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
}

/** The gateway's metrics, labelled by function name only (plus a status class or reason). */
export interface GatewayMetrics {
  unrouted: Counter;
  coldStarts: Counter<'function'>;
  coldStartSeconds: Histogram<'function'>;
  requestSeconds: Histogram<'function'>;
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
    requestSeconds: new Histogram({
      name: 'sprout_gateway_request_duration_seconds',
      help: 'From a routed HTTP request arriving to its response finishing (or the client leaving), held time included.',
      labelNames: ['function'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
