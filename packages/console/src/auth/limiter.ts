export interface LoginLimitOptions {
  /** Failed sign-ins allowed per client address within `windowMs` (default 5). */
  perClient?: number;
  /** Failed sign-ins allowed from all addresses together within `windowMs` (default 50). */
  overall?: number;
  /** Default 15 minutes. */
  windowMs?: number;
  now?: () => number;
}

/**
 * Failed sign-ins counted per client address and overall in a sliding window; past either limit,
 * sign-in is refused (even with the right password) until the oldest failure leaves the window.
 * At most 10 000 addresses are tracked; the oldest is forgotten first.
 */
export class LoginLimiter {
  readonly #perClient: number;
  readonly #overall: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #clients = new Map<string, number[]>();
  #all: number[] = [];

  constructor(o: LoginLimitOptions = {}) {
    this.#perClient = o.perClient ?? 5;
    this.#overall = o.overall ?? 50;
    this.#windowMs = o.windowMs ?? 15 * 60_000;
    this.#now = o.now ?? Date.now;
  }

  /** Seconds until `client` may try again, or 0 when it may now. */
  retryAfter(client: string): number {
    const now = this.#now();
    const since = now - this.#windowMs;
    this.#all = this.#all.filter((t) => t > since);
    const mine = (this.#clients.get(client) ?? []).filter((t) => t > since);
    if (mine.length) this.#clients.set(client, mine);
    else this.#clients.delete(client);
    const waits: number[] = [];
    if (mine.length >= this.#perClient)
      waits.push(mine[mine.length - this.#perClient]! + this.#windowMs - now);
    if (this.#all.length >= this.#overall)
      waits.push(this.#all[this.#all.length - this.#overall]! + this.#windowMs - now);
    return waits.length ? Math.max(1, Math.ceil(Math.max(...waits) / 1000)) : 0;
  }

  failed(client: string): void {
    const now = this.#now();
    this.#all.push(now);
    const mine = this.#clients.get(client) ?? [];
    this.#clients.delete(client);
    mine.push(now);
    this.#clients.set(client, mine);
    if (this.#clients.size > 10_000) this.#clients.delete(this.#clients.keys().next().value!);
  }

  /** A good sign-in clears its address's failures. */
  succeeded(client: string): void {
    this.#clients.delete(client);
  }
}
