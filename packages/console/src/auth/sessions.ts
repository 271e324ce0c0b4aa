import { createHash, randomBytes } from 'node:crypto';

export interface Session {
  user: string;
  /** The CSRF token its writes must carry (`x-sprout-csrf`). */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionOptions {
  /** A session ends this long after sign-in, used or not (default 12 h). */
  maxAgeMs?: number;
  /** ... or this long after its last request (default 2 h). */
  idleMs?: number;
  /** Sessions kept at most; the oldest ends first (default 1 000). */
  max?: number;
  now?: () => number;
}

const key = (id: string) => createHash('sha256').update(id).digest('hex');

/**
 * Browser sessions, in memory: a restart signs everyone out. Ids are 32 random bytes (base64url)
 * and kept only as their sha256, so the table holds nothing a cookie could be rebuilt from.
 *
 * @example
 * const sessions = new Sessions();
 * const { id, session } = sessions.create('admin');
 * sessions.get(id)?.csrf === session.csrf; // true
 */
export class Sessions {
  readonly maxAgeMs: number;
  readonly #idleMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #table = new Map<string, Session>();

  constructor(o: SessionOptions = {}) {
    this.maxAgeMs = o.maxAgeMs ?? 12 * 3600_000;
    this.#idleMs = o.idleMs ?? 2 * 3600_000;
    this.#max = o.max ?? 1_000;
    this.#now = o.now ?? Date.now;
  }

  create(user: string): { id: string; session: Session } {
    this.#prune();
    while (this.#table.size >= this.#max) this.#table.delete(this.#table.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    const now = this.#now();
    const session = { user, csrf: randomBytes(32).toString('base64url'), createdAt: now, lastSeenAt: now };
    this.#table.set(key(id), session);
    return { id, session };
  }

  /** The live session of a cookie value (its idle clock restarts), or undefined. */
  get(id: string): Session | undefined {
    const k = key(id);
    const s = this.#table.get(k);
    if (!s) return undefined;
    if (this.#expired(s)) {
      this.#table.delete(k);
      return undefined;
    }
    s.lastSeenAt = this.#now();
    return s;
  }

  /** Ends a session (logout). */
  end(id: string): void {
    this.#table.delete(key(id));
  }

  /** Ends every session (the admin's password changed). */
  endAll(): void {
    this.#table.clear();
  }

  #expired(s: Session): boolean {
    const now = this.#now();
    return now - s.createdAt >= this.maxAgeMs || now - s.lastSeenAt >= this.#idleMs;
  }

  #prune(): void {
    for (const [k, s] of this.#table) if (this.#expired(s)) this.#table.delete(k);
  }
}
