import { checkEtag, checkOptions, parseTtl } from './checks.js';
import { StateError, isStateError } from './errors.js';
import { checkKey } from './key.js';
import { parseQuery, runQuery } from './query.js';
import type { StorageEngine, WriteOp } from './engine.js';
import type {
  BulkGetItem,
  BulkResult,
  DeleteRequest,
  GetOptions,
  QueryResponse,
  SaveRequest,
  StateEntry,
  StateQuery,
  StateStore,
  TransactionOperation,
} from './types.js';

export interface EngineStoreOptions {
  /** Component name. */
  name: string;
  /** Prefix put in front of every key (see `keyPrefixOf`); '' for none. */
  prefix: string;
  /** Largest JSON-encoded value accepted, in bytes. Default 4 MiB (Dapr's default body limit). */
  maxValueBytes?: number;
  /** Interval of the expired-item sweep in ms; 0 turns it off. */
  cleanupIntervalMs?: number;
  /** Items processed at once by bulk operations. Default 16. */
  bulkParallelism?: number;
}

/** Runs `fn` over `items` with at most `n` in flight, keeping order. */
async function mapLimit<I, O>(items: I[], n: number, fn: (item: I) => Promise<O>): Promise<O[]> {
  const out = new Array<O>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/**
 * The one StateStore implementation over any `StorageEngine`: key prefixes, validation, etag rules,
 * TTL, bulk operations, transactions and queries behave the same on every engine.
 */
export class EngineStore implements StateStore {
  readonly name: string;
  readonly #engine: StorageEngine;
  readonly #prefix: string;
  readonly #maxValueBytes: number;
  readonly #parallelism: number;
  readonly #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(engine: StorageEngine, options: EngineStoreOptions) {
    this.name = options.name;
    this.#engine = engine;
    this.#prefix = options.prefix;
    this.#maxValueBytes = options.maxValueBytes ?? 4 * 1024 * 1024;
    this.#parallelism = options.bulkParallelism ?? 16;
    const every = options.cleanupIntervalMs ?? 0;
    if (every > 0) {
      this.#timer = setInterval(() => {
        this.#engine.purgeExpired().catch(() => undefined);
      }, every);
      this.#timer.unref();
    }
  }

  async get<T = unknown>(key: string, options?: GetOptions): Promise<StateEntry<T> | undefined> {
    checkKey(key);
    checkOptions(options);
    const full = this.#prefix + key;
    const engine = this.#engine;
    const raw = engine.getOne
      ? await this.#call(() => engine.getOne!(full))
      : (await this.#call(() => engine.getMany([full])))[0];
    if (!raw) return undefined;
    const entry: StateEntry<T> = { value: JSON.parse(raw.value) as T, etag: raw.etag };
    if (raw.expiresAt !== undefined)
      entry.metadata = { ttlExpireTime: new Date(raw.expiresAt).toISOString() };
    return entry;
  }

  async bulkGet<T = unknown>(keys: string[], options?: GetOptions): Promise<BulkGetItem<T>[]> {
    checkOptions(options);
    const valid: string[] = [];
    const out: BulkGetItem<T>[] = keys.map((key) => {
      try {
        valid.push(checkKey(key));
        return { key };
      } catch (err) {
        return { key: String(key), error: err as StateError };
      }
    });
    if (valid.length === 0) return out;
    const raws = await this.#call(() => this.#engine.getMany(valid.map((k) => this.#prefix + k)));
    let j = 0;
    for (const item of out) {
      if (item.error) continue;
      const raw = raws[j++];
      if (raw) {
        item.value = JSON.parse(raw.value) as T;
        item.etag = raw.etag;
        if (raw.expiresAt !== undefined)
          item.metadata = { ttlExpireTime: new Date(raw.expiresAt).toISOString() };
      }
    }
    return out;
  }

  async save(items: SaveRequest | SaveRequest[]): Promise<void> {
    const list = Array.isArray(items) ? items : [items];
    if (list.length === 0) return;
    const ops = list.map((i) => this.#setOp(i));
    await this.#write(ops);
  }

  async bulkSave(items: SaveRequest[]): Promise<BulkResult[]> {
    return mapLimit(items, this.#parallelism, async (item) => {
      try {
        await this.#write([this.#setOp(item)]);
        return { key: item.key };
      } catch (err) {
        return { key: String(item?.key), error: this.#wrap(err) };
      }
    });
  }

  async delete(key: string, options?: Omit<DeleteRequest, 'key'>): Promise<void> {
    await this.#write([this.#deleteOp({ ...options, key })]);
  }

  async bulkDelete(items: DeleteRequest[]): Promise<BulkResult[]> {
    return mapLimit(items, this.#parallelism, async (item) => {
      try {
        await this.#write([this.#deleteOp(item)]);
        return { key: item.key };
      } catch (err) {
        return { key: String(item?.key), error: this.#wrap(err) };
      }
    });
  }

  async transaction(operations: TransactionOperation[], _metadata?: Record<string, string>): Promise<void> {
    const ops = operations.map((o, i) => {
      if (o?.operation === 'upsert') return this.#setOp(o.request);
      if (o?.operation === 'delete') return this.#deleteOp(o.request);
      throw new StateError(
        'SPROUT_ERR_STATE_REQUEST_INVALID',
        `operations[${i}].operation "${String((o as { operation?: unknown })?.operation)}" is not upsert or delete`,
      );
    });
    if (ops.length) await this.#write(ops);
  }

  async query<T = unknown>(query: StateQuery, _metadata?: Record<string, string>): Promise<QueryResponse<T>> {
    const q = parseQuery(query);
    const rows = await this.#call(() => this.#engine.scan(this.#prefix, q.filter));
    const items = rows.map((r) => ({
      key: r.key.slice(this.#prefix.length),
      value: JSON.parse(r.value) as T,
      etag: r.etag,
    }));
    return runQuery(items, q);
  }

  /** Deletes expired items now (engines also do it on their own schedule). */
  async purgeExpired(): Promise<number> {
    return this.#call(() => this.#engine.purgeExpired());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#engine.close();
  }

  #setOp(item: SaveRequest): WriteOp {
    if (!item || typeof item !== 'object') {
      throw new StateError(
        'SPROUT_ERR_STATE_REQUEST_INVALID',
        'each item to save must be an object with key and value',
      );
    }
    const key = checkKey(item.key);
    checkOptions(item.options);
    let text: string | undefined;
    try {
      text = JSON.stringify(item.value);
    } catch (err) {
      throw new StateError(
        'SPROUT_ERR_STATE_VALUE_INVALID',
        `value of key "${key}" cannot be encoded as JSON`,
        {
          field: key,
          cause: err,
        },
      );
    }
    if (text === undefined) {
      throw new StateError('SPROUT_ERR_STATE_VALUE_INVALID', `value of key "${key}" is missing or not JSON`, {
        field: key,
      });
    }
    if (text.length > this.#maxValueBytes / 3 && Buffer.byteLength(text) > this.#maxValueBytes) {
      throw new StateError(
        'SPROUT_ERR_STATE_VALUE_TOO_LARGE',
        `value of key "${key}" is ${Buffer.byteLength(text)} bytes; the limit is ${this.#maxValueBytes}`,
        { field: key },
      );
    }
    const etag = checkEtag(item.etag, key);
    const ttlMs = parseTtl(item.metadata, key);
    const op: WriteOp = { op: 'set', key: this.#prefix + key, value: text };
    if (etag !== undefined) op.etag = etag;
    else if (item.options?.concurrency === 'first-write') op.insertOnly = true;
    if (ttlMs !== undefined) op.ttlMs = ttlMs;
    return op;
  }

  #deleteOp(item: DeleteRequest): WriteOp {
    if (!item || typeof item !== 'object') {
      throw new StateError(
        'SPROUT_ERR_STATE_REQUEST_INVALID',
        'each item to delete must be an object with a key',
      );
    }
    const key = checkKey(item.key);
    checkOptions(item.options);
    const etag = checkEtag(item.etag, key);
    return etag === undefined
      ? { op: 'delete', key: this.#prefix + key }
      : { op: 'delete', key: this.#prefix + key, etag };
  }

  async #write(ops: WriteOp[]): Promise<void> {
    await this.#call(() => this.#engine.write(ops));
  }

  async #call<R>(fn: () => Promise<R>): Promise<R> {
    if (this.#closed) throw new StateError('SPROUT_ERR_STATE_CLOSED', `state store "${this.name}" is closed`);
    try {
      return await fn();
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  #wrap(err: unknown): StateError {
    if (isStateError(err)) {
      if (err.field !== undefined && this.#prefix && err.field.startsWith(this.#prefix)) {
        const key = err.field.slice(this.#prefix.length);
        return new StateError(err.code, err.message.replace(err.field, key), {
          field: key,
          cause: err.cause,
        });
      }
      return err;
    }
    const message = err instanceof Error ? err.message : String(err);
    if (this.#engine.isUnavailable(err)) {
      return new StateError(
        'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE',
        `state store "${this.name}" is unavailable: ${message}`,
        {
          cause: err,
        },
      );
    }
    return new StateError('SPROUT_ERR_STATE_ENGINE_FAILED', `state store "${this.name}" failed: ${message}`, {
      cause: err,
    });
  }
}
