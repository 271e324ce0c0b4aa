import { Gauge, type Registry } from '@sprout/observe/metrics';
import type { LagDecision } from './decide.js';
import type { LagTrigger, TriggerReading } from './metric.js';

/** Records a LagPoller's decisions in `/metrics`; pass `record` as the poller's `onDecision`. */
export interface LagMetrics {
  record(fn: string, decision: LagDecision, readings: readonly TriggerReading[]): void;
  /** Drops a function's series (it was removed). */
  forget(fn: string, triggers: readonly Pick<LagTrigger, 'name' | 'type'>[]): void;
}

/**
 * Gauges of the lag scaler in `registry`, labelled by function and trigger name (both from the
 * function's own configuration, so the label sets stay bounded):
 * `sprout_triggers_scaler_value` (the metric a trigger read: lag, pending, queue length, rate),
 * `sprout_triggers_scaler_active` (1 above the activation threshold), and
 * `sprout_triggers_desired_replicas` (what the last decision asked for).
 */
export function createLagMetrics(registry: Registry): LagMetrics {
  const value = new Gauge({
    name: 'sprout_triggers_scaler_value',
    help: 'The value a KEDA-style trigger read at its last poll (lag, pending entries, queue length, rate)',
    labelNames: ['function', 'trigger', 'type'],
    registers: [registry],
  });
  const active = new Gauge({
    name: 'sprout_triggers_scaler_active',
    help: '1 when the trigger was above its activation threshold at its last poll',
    labelNames: ['function', 'trigger', 'type'],
    registers: [registry],
  });
  const desired = new Gauge({
    name: 'sprout_triggers_desired_replicas',
    help: 'Replicas the lag scaler last decided on',
    labelNames: ['function'],
    registers: [registry],
  });
  return {
    record(fn, decision, readings) {
      for (const r of readings) {
        const labels = { function: fn, trigger: r.trigger, type: r.type };
        value.set(labels, r.value);
        active.set(labels, r.active ? 1 : 0);
      }
      desired.set({ function: fn }, decision.replicas);
    },
    forget(fn, triggers) {
      desired.remove({ function: fn });
      for (const t of triggers) {
        const labels = { function: fn, trigger: t.name, type: t.type };
        value.remove(labels);
        active.remove(labels);
      }
    },
  };
}
