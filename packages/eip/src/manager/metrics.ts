import { Counter, Gauge, type Registry } from '@sprout/observe/metrics';
import type { PoolUsage } from '../allocation.js';

export interface EipCounters {
  allocations: Counter;
  exhausted: Counter;
}

/**
 * Registers the pool gauges (`sprout_eip_pool_size|used|free{pool}`, read from `usage` at each
 * scrape) and returns the allocation and exhaustion counters.
 */
export function registerEipMetrics(registry: Registry, usage: () => PoolUsage[]): EipCounters {
  const gauge = (metric: string, help: string, pick: (u: PoolUsage) => number) =>
    new Gauge({
      name: metric,
      help,
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        this.reset();
        for (const u of usage()) this.set({ pool: u.name }, pick(u));
      },
    });
  gauge('sprout_eip_pool_size', 'Addresses an Eip can hand out', (u) => u.size);
  gauge('sprout_eip_pool_used', 'Addresses of an Eip held by services', (u) => u.used);
  gauge('sprout_eip_pool_free', 'Addresses of an Eip still free', (u) => u.free);
  return {
    allocations: new Counter({
      name: 'sprout_eip_allocations_total',
      help: 'Allocation requests by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    exhausted: new Counter({
      name: 'sprout_eip_pool_exhausted_total',
      help: 'Times an Eip ran out of addresses',
      labelNames: ['pool'],
      registers: [registry],
    }),
  };
}
