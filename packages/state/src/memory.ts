import { randomUUID } from 'node:crypto';
import type { GetOptions, SaveRequest, StateEntry, StateStore, DeleteRequest } from './types.js';
import { StateError } from './errors.js';

interface Stored {
  value: unknown;
  etag: string;
  expiresAt?: number;
}

/** An in-process store; nothing persists. For tests and for functions with no state component. */
export class MemoryStateStore implements StateStore {
  readonly #items = new Map<string, Stored>();
  constructor(readonly name: string = 'in-memory') {}

  async get<T = unknown>(key: string, _options?: GetOptions): Promise<StateEntry<T> | undefined> {
    const item = this.#live(key);
    return item ? { value: structuredClone(item.value) as T, etag: item.etag } : undefined;
  }

  async save(items: SaveRequest | SaveRequest[]): Promise<void> {
    const list = Array.isArray(items) ? items : [items];
    for (const item of list) this.#checkEtag(item.key, item.etag);
    for (const item of list) {
      const ttl = Number(item.metadata?.ttlInSeconds ?? -1);
      this.#items.set(item.key, {
        value: structuredClone(item.value),
        etag: randomUUID(),
        ...(ttl >= 0 ? { expiresAt: Date.now() + ttl * 1000 } : {}),
      });
    }
  }

  async delete(key: string, options?: Omit<DeleteRequest, 'key'>): Promise<void> {
    this.#checkEtag(key, options?.etag);
    this.#items.delete(key);
  }

  async close(): Promise<void> {
    this.#items.clear();
  }

  #live(key: string): Stored | undefined {
    const item = this.#items.get(key);
    if (item?.expiresAt !== undefined && item.expiresAt <= Date.now()) {
      this.#items.delete(key);
      return undefined;
    }
    return item;
  }

  #checkEtag(key: string, etag: string | undefined): void {
    if (etag === undefined) return;
    if (this.#live(key)?.etag !== etag) {
      throw new StateError('SPROUT_ERR_STATE_ETAG_MISMATCH', `etag mismatch for key "${key}"`);
    }
  }
}
