import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerState } from './breaker.js';

/** A breaker on a clock the test moves. */
function breaker(spec: ConstructorParameters<typeof CircuitBreaker>[0]) {
  const clock = { now: 1_000_000 };
  const changes: string[] = [];
  const cb = new CircuitBreaker(
    spec,
    () => clock.now,
    (from: BreakerState, to: BreakerState) => changes.push(`${from}>${to}`),
  );
  const run = (ok: boolean) => {
    const wait = cb.admit();
    if (wait === 0) cb.record(ok);
    return wait;
  };
  return { cb, clock, changes, run };
}

describe('CircuitBreaker (gobreaker semantics, as daprd runs it)', () => {
  it('trips when the trip expression holds after a failure, refuses while open, half-opens after timeout', () => {
    const { cb, clock, changes, run } = breaker({
      maxRequests: 1,
      timeoutMs: 30_000,
      trip: { counter: 'consecutiveFailures', above: 2 },
    });
    expect([run(false), run(false)]).toEqual([0, 0]);
    expect(cb.current()).toBe('closed');
    run(false); // the third in a row: 3 > 2
    expect(cb.current()).toBe('open');
    expect(cb.admit()).toBe(30_000);
    clock.now += 29_999;
    expect(cb.admit()).toBe(1);
    clock.now += 1;
    expect(cb.current()).toBe('half-open');
    expect(cb.admit()).toBe(0); // maxRequests 1 through ...
    expect(cb.admit()).toBeGreaterThan(0); // ... and no more until it settles
    cb.record(false); // a failure half-open opens it again
    expect(cb.current()).toBe('open');
    clock.now += 30_000;
    expect(run(true)).toBe(0); // half-open, one success closes it
    expect(cb.current()).toBe('closed');
    expect(changes).toEqual([
      'closed>open',
      'open>half-open',
      'half-open>open',
      'open>half-open',
      'half-open>closed',
    ]);
  });

  it('a success resets consecutive failures; totalFailures counts across; interval clears the counts', () => {
    const a = breaker({ trip: { counter: 'consecutiveFailures', above: 1 } });
    a.run(false);
    a.run(true);
    a.run(false);
    expect(a.cb.current()).toBe('closed');
    const b = breaker({ intervalMs: 10_000, trip: { counter: 'totalFailures', above: 1 } });
    b.run(false);
    b.run(true);
    b.clock.now += 10_000; // a new interval: counts cleared
    b.run(false);
    expect(b.cb.current()).toBe('closed');
    b.run(false);
    expect(b.cb.current()).toBe('open');
  });

  it("Dapr's defaults: trip consecutiveFailures > 5, open 60 s, one request half-open", () => {
    const { cb, clock, run } = breaker({});
    for (let i = 0; i < 5; i++) run(false);
    expect(cb.current()).toBe('closed');
    run(false);
    expect(cb.current()).toBe('open');
    clock.now += 59_999;
    expect(cb.current()).toBe('open');
    clock.now += 1;
    expect(cb.current()).toBe('half-open');
  });

  it('maxRequests successes in a row close a half-open breaker; requests trips count every request', () => {
    const { cb, clock, run } = breaker({
      maxRequests: 3,
      timeoutMs: 1000,
      trip: { counter: 'requests', above: 1 },
    });
    run(true);
    expect(cb.current()).toBe('closed'); // trip is checked after a failure only
    run(false);
    expect(cb.current()).toBe('open');
    clock.now += 1000;
    expect([cb.admit(), cb.admit(), cb.admit()]).toEqual([0, 0, 0]);
    expect(cb.admit()).toBeGreaterThan(0);
    cb.record(true);
    cb.record(true);
    expect(cb.current()).toBe('half-open');
    cb.record(true);
    expect(cb.current()).toBe('closed');
  });

  it('admitted() waits for the breaker and gives up when the signal aborts', async () => {
    const { cb, run } = breaker({ timeoutMs: 60_000, trip: { counter: 'consecutiveFailures', above: 0 } });
    run(false);
    const stop = new AbortController();
    const waiting = cb.admitted(stop.signal);
    stop.abort();
    await expect(waiting).rejects.toThrow();
  });
});
