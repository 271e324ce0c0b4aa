import { etagMismatch, type RawItem, type StorageEngine, type WriteOp } from './engine.js';
import { EngineStore, type EngineStoreOptions } from './store.js';

interface Stored {
  value: string;
  etag: number;
  expiresAt?: number;
}

/** An engine that keeps items in a Map of this process; nothing persists. */
export class MemoryEngine implements StorageEngine {
  readonly #items = new Map<string, Stored>();
  #version = 0;

  async getMany(keys: string[]): Promise<(RawItem | undefined)[]> {
    return keys.map((k) => {
      const item = this.#live(k);
      if (!item) return undefined;
      const raw: RawItem = { value: item.value, etag: String(item.etag) };
      if (item.expiresAt !== undefined) raw.expiresAt = item.expiresAt;
      return raw;
    });
  }

  async write(ops: WriteOp[]): Promise<void> {
    for (const op of ops) {
      const cur = this.#live(op.key);
      if (op.etag !== undefined && cur?.etag !== Number(op.etag)) throw etagMismatch(op.key);
      if (op.op === 'set' && op.insertOnly && cur) throw etagMismatch(op.key);
    }
    for (const op of ops) {
      if (op.op === 'delete') this.#items.delete(op.key);
      else {
        this.#items.set(op.key, {
          value: op.value,
          etag: ++this.#version,
          ...(op.ttlMs !== undefined ? { expiresAt: Date.now() + op.ttlMs } : {}),
        });
      }
    }
  }

  async scan(prefix: string): Promise<(RawItem & { key: string })[]> {
    const out: (RawItem & { key: string })[] = [];
    for (const key of [...this.#items.keys()]) {
      if (!key.startsWith(prefix)) continue;
      const item = this.#live(key);
      if (item) out.push({ key, value: item.value, etag: String(item.etag) });
    }
    return out;
  }

  async purgeExpired(): Promise<number> {
    let n = 0;
    for (const key of [...this.#items.keys()]) if (!this.#live(key)) n++;
    return n;
  }

  isUnavailable(): boolean {
    return false;
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
}

/**
 * An in-process store (`state.in-memory`); nothing persists. For tests and for functions with no
 * state component.
 *
 * @example
 * const store = new MemoryStateStore('cache');
 * await store.save({ key: 'a', value: { n: 1 } });
 * const entry = await store.get<{ n: number }>('a'); // { value: { n: 1 }, etag: '1' }
 */
export class MemoryStateStore extends EngineStore {
  constructor(name: string = 'in-memory', options: Partial<Omit<EngineStoreOptions, 'name'>> = {}) {
    super(new MemoryEngine(), { prefix: '', cleanupIntervalMs: 60_000, ...options, name });
  }
}
