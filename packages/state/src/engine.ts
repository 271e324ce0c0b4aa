import { StateError } from './errors.js';
import type { QueryFilter } from './types.js';

/** A stored item as an engine holds it: the value as JSON text and its etag. */
export interface RawItem {
  value: string;
  etag: string;
  /** When the item expires (ms since the epoch), if it has a TTL. */
  expiresAt?: number;
}

/** A write an engine applies. Keys here are full keys (prefix included). */
export type WriteOp =
  | {
      op: 'set';
      key: string;
      /** JSON text. */
      value: string;
      /** Write only if the live item has this etag. */
      etag?: string;
      /** Write only if no live item exists (first-write without an etag). */
      insertOnly?: boolean;
      /** Time to live in milliseconds; absent keeps the item forever (and clears an earlier TTL). */
      ttlMs?: number;
    }
  | { op: 'delete'; key: string; etag?: string };

/**
 * A storage engine: the narrow interface SQLite, Redis, PostgreSQL and the in-memory map implement.
 * `EngineStore` adds keys, validation, TTL parsing, bulk and query on top.
 * Every method that writes is all-or-nothing over the ops given and throws
 * `SPROUT_ERR_STATE_ETAG_MISMATCH` (with the full key) when a condition fails.
 */
export interface StorageEngine {
  /** Live items for the keys, in order; undefined where missing or expired. */
  getMany(keys: string[]): Promise<(RawItem | undefined)[]>;
  /** One key's live item: an engine may answer it cheaper than `getMany([key])`. */
  getOne?(key: string): Promise<RawItem | undefined>;
  write(ops: WriteOp[]): Promise<void>;
  /**
   * Every live item whose full key starts with `prefix`. An engine may use `filter` to read fewer
   * items, but must return every item the filter matches (the caller filters again, exactly).
   */
  scan(prefix: string, filter?: QueryFilter): Promise<(RawItem & { key: string })[]>;
  /** Removes expired items now; returns how many went. */
  purgeExpired(): Promise<number>;
  /** True when the error means the engine cannot be reached (connection refused, closed, timed out). */
  isUnavailable(err: unknown): boolean;
  close(): Promise<void>;
}

/** Builds the conflict error engines throw; its `field` is the full key (EngineStore strips the prefix). */
export function etagMismatch(key: string): StateError {
  return new StateError('SPROUT_ERR_STATE_ETAG_MISMATCH', `etag mismatch for key "${key}"`, { field: key });
}
