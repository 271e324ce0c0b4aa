import { Registry, Counter, Gauge, Histogram, type Metric } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };
export type { Metric };

/** Prometheus text exposition content type. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Creates a metrics registry owned by one server or component (no global default registry).
 *
 * @example
 * const metrics = createMetrics();
 * const hits = new Counter({ name: 'hits_total', help: 'hits', registers: [metrics] });
 * res.end(await metrics.metrics());
 */
export function createMetrics(): Registry {
  return new Registry();
}
