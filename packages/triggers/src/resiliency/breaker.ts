import { setTimeout as sleep } from 'node:timers/promises';
import type { BreakerCounter, ResiliencyBreaker } from '@sprout/spec';

/** A circuit breaker's state, in Dapr's words. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** The counts a `trip` reads (gobreaker's `Counts`, as Dapr exposes them). */
type Counts = Record<BreakerCounter, number>;

const zero = (): Counts => ({
  requests: 0,
  totalSuccesses: 0,
  totalFailures: 0,
  consecutiveSuccesses: 0,
  consecutiveFailures: 0,
});

/** Dapr's defaults (sony/gobreaker's, which daprd uses): 1 request half-open, 60 s open, trip on 6 failures in a row. */
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_TRIP = { counter: 'consecutiveFailures', above: 5 } as const;
/** How often a caller refused while half-open looks again. */
const HALF_OPEN_POLL_MS = 50;

/**
 * A circuit breaker as Dapr runs one (sony/gobreaker): closed, it counts requests, clearing the
 * counts every `interval` (0: never) and opening when `trip` holds after a failure; open, it refuses
 * everything for `timeout`; then half-open, it lets `maxRequests` through: that many successes in a
 * row close it, one failure opens it again. `now` is injectable for tests.
 */
export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private counts = zero();
  /** When the current closed interval ends, or the open period (ms since epoch); 0: not set. */
  private expiry = 0;
  private readonly maxRequests: number;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly trip: { counter: BreakerCounter; above: number };

  constructor(
    spec: ResiliencyBreaker,
    private readonly now: () => number = Date.now,
    private readonly onChange?: (from: BreakerState, to: BreakerState) => void,
  ) {
    this.maxRequests = spec.maxRequests || 1;
    this.intervalMs = spec.intervalMs ?? 0;
    this.timeoutMs = spec.timeoutMs || DEFAULT_TIMEOUT_MS;
    this.trip = spec.trip ?? DEFAULT_TRIP;
    this.newGeneration();
  }

  /** The state now (an open breaker whose timeout passed reads half-open). */
  current(): BreakerState {
    this.tick();
    return this.state;
  }

  /**
   * Asks to let one request through: 0 if it may go (it is counted: report it with `record`), else
   * how many ms until asking again makes sense.
   */
  admit(): number {
    this.tick();
    if (this.state === 'open') return Math.max(1, this.expiry - this.now());
    if (this.state === 'half-open' && this.counts.requests >= this.maxRequests) return HALF_OPEN_POLL_MS;
    this.counts.requests++;
    return 0;
  }

  /** Waits until `admit()` lets a request through; rejects when `signal` aborts. */
  async admitted(signal: AbortSignal): Promise<void> {
    for (let wait = this.admit(); wait > 0; wait = this.admit()) await sleep(wait, undefined, { signal });
  }

  /** The outcome of a request `admit()` let through. */
  record(ok: boolean): void {
    this.tick();
    const c = this.counts;
    if (ok) {
      c.totalSuccesses++;
      c.consecutiveSuccesses++;
      c.consecutiveFailures = 0;
      if (this.state === 'half-open' && c.consecutiveSuccesses >= this.maxRequests) this.set('closed');
      return;
    }
    c.totalFailures++;
    c.consecutiveFailures++;
    c.consecutiveSuccesses = 0;
    if (this.state === 'half-open' || (this.state === 'closed' && c[this.trip.counter] > this.trip.above))
      this.set('open');
  }

  /** Moves on by the clock: a closed interval that ended clears the counts; an open period that ended half-opens. */
  private tick(): void {
    const now = this.now();
    if (this.state === 'closed' && this.expiry && this.expiry <= now) this.newGeneration();
    else if (this.state === 'open' && this.expiry <= now) this.set('half-open');
  }

  private set(to: BreakerState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.newGeneration();
    this.onChange?.(from, to);
  }

  private newGeneration(): void {
    this.counts = zero();
    const now = this.now();
    this.expiry =
      this.state === 'open'
        ? now + this.timeoutMs
        : this.state === 'closed' && this.intervalMs > 0
          ? now + this.intervalMs
          : 0;
  }
}
