import { describe, expect, it } from 'vitest';
import { GatewayError } from './errors.js';
import { RateWindow, resolvePolicy, Scaler, SCALING_DEFAULTS } from './scaler.js';

/** Runs a scaler over [time ms, concurrency] samples and returns the replica counts. */
function run(s: Scaler, samples: [number, number][]): number[] {
  return samples.map(([t, c]) => s.decide(t, c).replicas);
}

describe('Scaler', () => {
  it('uses KEDA defaults: concurrency 100 per instance, max 100, 300 s scaledown', () => {
    const p = resolvePolicy({ minReplicas: 0, maxReplicas: 100 });
    expect(p).toMatchObject({ useConcurrency: true, useRate: false, targetConcurrency: 100 });
    expect(SCALING_DEFAULTS).toMatchObject({
      rateWindowMs: 60_000,
      rateGranularityMs: 1_000,
      scaledownPeriodMs: 300_000,
    });
  });

  it('scales on concurrency immediately and holds scale-down for scaledownPeriod', () => {
    const s = new Scaler({ minReplicas: 0, maxReplicas: 10, targetConcurrency: 10, scaledownPeriodMs: 1000 });
    expect(
      run(s, [
        [0, 0],
        [100, 1],
        [200, 25],
        [300, 5],
        [1100, 5],
        [1199, 5],
        [1201, 5],
        [1300, 0],
        [2200, 0],
        [2202, 0],
      ]),
    ).toEqual([0, 1, 3, 3, 3, 3, 1, 1, 1, 0]);
  });

  it('restarts the scaledown clock when demand comes back', () => {
    const s = new Scaler({ minReplicas: 0, maxReplicas: 10, targetConcurrency: 1, scaledownPeriodMs: 1000 });
    expect(
      run(s, [
        [0, 2],
        [500, 0],
        [900, 2],
        [1500, 0],
        [1899, 0],
        [1901, 0],
      ]),
    ).toEqual([2, 2, 2, 2, 2, 0]);
  });

  it('clamps to min and max replicas', () => {
    const s = new Scaler({ minReplicas: 2, maxReplicas: 4, targetConcurrency: 1, scaledownPeriodMs: 0 });
    expect(
      run(s, [
        [0, 0],
        [1, 3],
        [2, 50],
        [3, 0],
      ]),
    ).toEqual([2, 3, 4, 2]);
    expect(s.decide(4, 50).reason).toMatch(/capped at maxReplicas 4/);
  });

  it('scales on request rate over the window with its granularity', () => {
    const s = new Scaler({
      minReplicas: 0,
      maxReplicas: 20,
      targetRate: 10,
      rateWindowMs: 2000,
      rateGranularityMs: 500,
      scaledownPeriodMs: 0,
    });
    expect(s.policy.useConcurrency).toBe(false);
    for (let t = 0; t < 1000; t += 10) s.recordRequest(t); // 100 requests in the first second
    expect(s.decide(1000, 0)).toMatchObject({ replicas: 5, rate: 50 });
    expect(s.decide(1999, 0).replicas).toBe(5); // the window is the last 4 buckets of 500 ms: 0..3
    expect(s.decide(2000, 0).replicas).toBe(3); // bucket 0 left: 50 requests / 2 s = 25 /s
    expect(s.decide(2500, 0).replicas).toBe(0);
  });

  it('combines concurrency and rate by max', () => {
    const s = new Scaler({
      minReplicas: 0,
      maxReplicas: 20,
      targetRate: 10,
      targetConcurrency: 5,
      rateWindowMs: 1000,
      scaledownPeriodMs: 0,
    });
    for (let i = 0; i < 30; i++) s.recordRequest(100);
    expect(s.decide(500, 2)).toMatchObject({ replicas: 3, demand: 3 });
    expect(s.decide(600, 40)).toMatchObject({ replicas: 8 });
    expect(s.decide(600, 40).reason).toMatch(/concurrency 40/);
  });

  it('treats one held request as demand for one instance (activation from zero)', () => {
    const s = new Scaler({ minReplicas: 0, maxReplicas: 3 });
    expect(s.decide(0, 1).replicas).toBe(1);
  });

  it.each([
    [{ minReplicas: -1, maxReplicas: 1 }, 'scaling.minReplicas'],
    [{ minReplicas: 3, maxReplicas: 2 }, 'scaling.minReplicas'],
    [{ minReplicas: 0, maxReplicas: 0 }, 'scaling.maxReplicas'],
    [{ minReplicas: 0, maxReplicas: 1, targetConcurrency: 0 }, 'scaling.targetConcurrency'],
    [{ minReplicas: 0, maxReplicas: 1, targetRate: -1 }, 'scaling.targetRate'],
    [{ minReplicas: 0, maxReplicas: 1, rateWindowMs: 100, rateGranularityMs: 1000 }, 'scaling.rateWindowMs'],
    [{ minReplicas: 0, maxReplicas: 1, scaledownPeriodMs: -5 }, 'scaling.scaledownPeriodMs'],
  ])('refuses %j naming %s', (policy, field) => {
    expect(() => new Scaler(policy)).toThrow(GatewayError);
    try {
      new Scaler(policy);
    } catch (e) {
      expect((e as GatewayError).field).toBe(field);
    }
  });
});

describe('RateWindow', () => {
  it('forgets buckets older than the window, even after a long gap', () => {
    const w = new RateWindow(1000, 100);
    w.add(50, 10);
    expect(w.rate(99)).toBe(10);
    expect(w.rate(1099)).toBe(0);
    w.add(100_050, 4); // same slot as t=50, many windows later
    expect(w.rate(100_060)).toBe(4);
  });
});
