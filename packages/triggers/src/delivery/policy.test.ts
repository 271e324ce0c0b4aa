import { describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
import { isTriggersError } from '../errors.js';
import { backoffMs, DEFAULT_RETRY_POLICY, mayRetry, readRetryPolicy } from './policy.js';

describe('readRetryPolicy (Dapr resiliency field names)', () => {
  it.each([
    [{}, DEFAULT_RETRY_POLICY],
    [
      { policy: 'constant', duration: '5s', maxRetries: 10 },
      { policy: 'constant', durationMs: 5000, maxIntervalMs: 60_000, maxRetries: 10 },
    ],
    [
      { policy: 'exponential', maxInterval: '15s', maxRetries: -1 },
      { policy: 'exponential', durationMs: 1000, maxIntervalMs: 15_000, maxRetries: -1 },
    ],
    [
      { duration: 250, maxRetries: 0 },
      { policy: 'constant', durationMs: 250, maxIntervalMs: 60_000, maxRetries: 0 },
    ],
    [{ duration: '1m30s' }, { ...DEFAULT_RETRY_POLICY, durationMs: 90_000 }],
  ] as const)('%j', (spec, want) => {
    expect(readRetryPolicy(spec as never)).toEqual(want);
  });

  it.each([
    [{ policy: 'linear' }, 'policy'],
    [{ duration: 'soon' }, 'duration'],
    [{ duration: -5 }, 'duration'],
    [{ maxInterval: '10' }, 'maxInterval'],
    [{ maxRetries: -2 }, 'maxRetries'],
    [{ maxRetries: 1.5 }, 'maxRetries'],
  ])('%j is SPROUT_ERR_TRIGGERS_POLICY_INVALID naming %s', (spec, field) => {
    let err: unknown;
    try {
      readRetryPolicy(spec as never);
    } catch (e) {
      err = e;
    }
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_POLICY_INVALID')).toBe(true);
    expect((err as { field?: string }).field).toBe(field);
  });
});

describe('backoff', () => {
  it('constant: the duration every time', () => {
    const p = readRetryPolicy({ policy: 'constant', duration: '2s' });
    expect([1, 2, 10].map((r) => backoffMs(p, r))).toEqual([2000, 2000, 2000]);
  });

  it("exponential: Dapr's 500 ms × 1.5ⁿ, jitter ±50 %, capped at maxInterval", () => {
    const p = readRetryPolicy({ policy: 'exponential', maxInterval: '3s' });
    expect([1, 2, 3, 4].map((r) => backoffMs(p, r, () => 0.5))).toEqual([500, 750, 1125, 1688]);
    expect(backoffMs(p, 1, () => 0)).toBe(250);
    expect(backoffMs(p, 1, () => 0.999999)).toBe(750);
    expect(backoffMs(p, 20, () => 0.5)).toBe(3000);
    expect(backoffMs(p, 20, () => 0.999999)).toBe(3000);
    expect(backoffMs(p, 20, () => 0)).toBe(1500);
  });

  it('maxRetries counts retries after the first attempt; -1 never stops', () => {
    const three = readRetryPolicy({ maxRetries: 3 });
    expect([0, 1, 2, 3].map((n) => mayRetry(three, n))).toEqual([true, true, true, false]);
    expect(mayRetry(readRetryPolicy({ maxRetries: 0 }), 0)).toBe(false);
    expect(mayRetry(readRetryPolicy({ maxRetries: -1 }), 1e6)).toBe(true);
  });
});

describe('fuzz', () => {
  it('random field values give a policy whose waits are finite and within bounds, or the coded refusal', () => {
    const rng = seededRng();
    const values = [
      undefined,
      0,
      -1,
      1.5,
      3,
      1e9,
      '',
      '5s',
      '1m30s',
      '500ms',
      'soon',
      '10',
      '-5s',
      'constant',
      'exponential',
      'linear',
      null,
      {},
      [],
    ];
    const counts = { read: 0, refused: 0 };
    const until = Date.now() + 200;
    for (let i = 0; i < 20 || Date.now() < until; i++) {
      const spec = {
        policy: rng.pick(values),
        duration: rng.pick(values),
        maxInterval: rng.pick(values),
        maxRetries: rng.pick(values),
      };
      let p;
      try {
        p = readRetryPolicy(spec as never);
        counts.read++;
      } catch (err) {
        if (!isTriggersError(err, 'SPROUT_ERR_TRIGGERS_POLICY_INVALID'))
          throw new Error(`seed ${rng.seed} ${JSON.stringify(spec)}: ${String(err)}`);
        counts.refused++;
        continue;
      }
      for (const retry of [1, 2, 10, 100]) {
        const wait = backoffMs(p, retry, () => rng.next());
        expect(Number.isFinite(wait) && wait >= 0, `seed ${rng.seed} ${JSON.stringify(spec)}`).toBe(true);
        if (p.policy === 'exponential') expect(wait).toBeLessThanOrEqual(p.maxIntervalMs);
      }
    }
    expect(counts.read + counts.refused).toBeGreaterThanOrEqual(20);
  });
});
