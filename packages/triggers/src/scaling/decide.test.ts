import { describe, expect, it } from 'vitest';
import { isTriggersError } from '../errors.js';
import { KEDA_DEFAULTS, LagDecider, readScaleOptions, type Demand } from './decide.js';

const policy = { minReplicas: 0, maxReplicas: 5, pollingIntervalMs: 1000, cooldownPeriodMs: 60_000 };
const on = (replicas: number, source = 'nats-jetstream a'): Demand => ({ source, replicas, active: true });
const off = (replicas = 0, source = 'nats-jetstream a'): Demand => ({ source, replicas, active: false });

describe('LagDecider (KEDA activation and cooldown over the HPA)', () => {
  // [label, current, demands, replicas]
  const ROWS: [string, number, Demand[], number][] = [
    ['active at zero wakes to the demand', 0, [on(3)], 3],
    ['active with a demand of 0 (rate trigger) still runs one', 0, [on(0)], 1],
    ['max over triggers', 1, [on(2), on(4, 'redis-streams b'), off(1, 'cron c')], 4],
    ['capped at maxReplicas', 2, [on(40)], 5],
    ['inactive at zero stays at zero', 0, [off(1)], 0],
    ['gateway demand in the same decision', 0, [off(0), { source: 'http', replicas: 2, active: true }], 2],
  ];
  it.each(ROWS)('%s', (_label, current, demands, replicas) => {
    expect(new LagDecider(policy).decide(0, current, demands).replicas).toBe(replicas);
  });

  it('keeps the function up for the cooldown period after the last active poll, then goes to zero', () => {
    const d = new LagDecider(policy);
    expect(d.decide(0, 0, [on(2)]).replicas).toBe(2);
    // Inactive (below activation) but the lag still asks one: the HPA keeps it at >= 1.
    expect(d.decide(1_000, 2, [off(1)]).replicas).toBe(1);
    expect(d.decide(59_999, 1, [off(0)]).replicas).toBe(1);
    const last = d.decide(60_000, 1, [off(0)]);
    expect(last.replicas).toBe(0);
    expect(last.reason).toMatch(/scale to zero/);
    // Active again restarts the cooldown.
    expect(d.decide(70_000, 0, [on(1)]).replicas).toBe(1);
    expect(d.decide(100_000, 1, [off()]).replicas).toBe(1);
    expect(d.decide(130_000, 1, [off()]).replicas).toBe(0);
  });

  it('a function that was never active goes to zero at once', () => {
    expect(new LagDecider(policy).decide(0, 3, [off()]).replicas).toBe(0);
  });

  it('minReplicas holds while idle and is the floor when active', () => {
    const d = new LagDecider({ ...policy, minReplicas: 2 });
    expect(d.decide(0, 0, [off()]).replicas).toBe(2);
    expect(d.decide(0, 2, [off()]).replicas).toBe(2);
    expect(d.decide(10 * 60_000, 2, [off()]).replicas).toBe(2);
    expect(d.decide(0, 2, [on(1)]).replicas).toBe(2);
    expect(d.decide(0, 2, [on(4)]).replicas).toBe(4);
  });
});

describe('readScaleOptions', () => {
  it('takes KEDA defaults and OpenFunction v1beta2 fields', () => {
    expect(readScaleOptions(undefined).policy).toEqual(KEDA_DEFAULTS);
    const { policy: p, triggers } = readScaleOptions({
      minReplicas: 1,
      maxReplicas: 7,
      keda: {
        scaledObject: { pollingInterval: 5, cooldownPeriod: 30 },
        triggers: [{ type: 'nats-jetstream', name: 'orders', metadata: { stream: 's', consumer: 'c' } }],
      },
    });
    expect(p).toEqual({ minReplicas: 1, maxReplicas: 7, pollingIntervalMs: 5000, cooldownPeriodMs: 30_000 });
    expect(triggers.map((t) => [t.name, t.source])).toEqual([['orders', 's/c']]);
  });

  it.each([
    [{ maxReplicas: 0 }, 'serving.scaleOptions.maxReplicas'],
    [{ minReplicas: 4, maxReplicas: 2 }, 'serving.scaleOptions.maxReplicas'],
    [{ minReplicas: -1 }, 'serving.scaleOptions.minReplicas'],
    [
      { keda: { scaledObject: { pollingInterval: 0 } } },
      'serving.scaleOptions.keda.scaledObject.pollingInterval',
    ],
    [
      { keda: { scaledObject: { cooldownPeriod: '5m' } } },
      'serving.scaleOptions.keda.scaledObject.cooldownPeriod',
    ],
    [{ keda: { triggers: [{ type: 'kafka', metadata: {} }] } }, 'serving.scaleOptions.keda.triggers[0].type'],
  ])('refuses %j naming %s', (so, field) => {
    let caught: unknown;
    try {
      readScaleOptions(so);
    } catch (err) {
      caught = err;
    }
    expect(isTriggersError(caught, 'SPROUT_ERR_TRIGGERS_SCALER_INVALID')).toBe(true);
    expect((caught as { field?: string }).field).toBe(field);
  });
});
