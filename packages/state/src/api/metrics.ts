import { Counter, Histogram, createMetrics, type Registry } from '@sprout/observe/metrics';
import type { Op } from './respond.js';

/** The state API's request metrics, in a registry of their own (served at GET /metrics). */
export interface ApiMetrics {
  registry: Registry;
  /** Counts a finished request; `started` is its `performance.now()` at arrival. */
  record(op: Op, store: string, status: number, started: number): void;
}

export function createApiMetrics(): ApiMetrics {
  const registry = createMetrics();
  const requests = new Counter({
    name: 'sprout_state_requests_total',
    help: 'Dapr state API requests by store, operation and status',
    labelNames: ['store', 'operation', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'sprout_state_request_duration_seconds',
    help: 'Dapr state API request duration',
    labelNames: ['operation'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2],
    registers: [registry],
  });
  return {
    registry,
    record(op, store, status, started) {
      requests.inc({ store, operation: op, status: String(status) });
      duration.observe({ operation: op }, (performance.now() - started) / 1000);
    },
  };
}
