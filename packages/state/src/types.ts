import type { StateError } from './errors.js';

/** Concurrency mode of a write: with `first-write` an etag must match; `last-write` overwrites. */
export type Concurrency = 'first-write' | 'last-write';
/** Consistency asked of a read or write; engines honour `strong` where they can. */
export type Consistency = 'eventual' | 'strong';

export interface StateOptions {
  concurrency?: Concurrency;
  consistency?: Consistency;
}

/** A value read from a store, with the etag to send back on a conditional write. */
export interface StateEntry<T = unknown> {
  value: T;
  etag: string;
  /** `ttlExpireTime` (RFC 3339) when the item has a TTL, as Dapr reports it. */
  metadata?: { ttlExpireTime: string };
}

export interface SaveRequest<T = unknown> {
  key: string;
  value: T;
  /** When set, the write succeeds only if the stored etag matches. */
  etag?: string;
  /** Per-item metadata, e.g. `ttlInSeconds` ("-1" keeps the item forever). */
  metadata?: Record<string, string>;
  options?: StateOptions;
}

export interface DeleteRequest {
  key: string;
  etag?: string;
  metadata?: Record<string, string>;
  options?: StateOptions;
}

export interface GetOptions {
  consistency?: Consistency;
  metadata?: Record<string, string>;
}

/** One item of a bulk get: `value`/`etag` when found, neither when missing, `error` when that key failed. */
export interface BulkGetItem<T = unknown> {
  key: string;
  value?: T;
  etag?: string;
  metadata?: { ttlExpireTime: string };
  error?: StateError;
}

/** The outcome of one item of a bulk save or bulk delete (bulk operations are not atomic). */
export interface BulkResult {
  key: string;
  error?: StateError;
}

/** One operation of a transaction, in the shape of Dapr's transaction API. */
export type TransactionOperation =
  { operation: 'upsert'; request: SaveRequest } | { operation: 'delete'; request: DeleteRequest };

/** A filter of Dapr's query language: keys are dot-paths into the JSON value. */
export type QueryFilter =
  | { EQ: Record<string, unknown> }
  | { NEQ: Record<string, unknown> }
  | { GT: Record<string, unknown> }
  | { GTE: Record<string, unknown> }
  | { LT: Record<string, unknown> }
  | { LTE: Record<string, unknown> }
  | { IN: Record<string, unknown[]> }
  | { AND: QueryFilter[] }
  | { OR: QueryFilter[] };

export interface QuerySort {
  key: string;
  order?: 'ASC' | 'DESC';
}

/** A state query: `filter` (omit for all items), `sort`, and `page` with `limit` and the `token` of the previous page. */
export interface StateQuery {
  filter?: QueryFilter;
  sort?: QuerySort[];
  page?: { limit?: number; token?: string };
}

export interface QueryItem<T = unknown> {
  key: string;
  value: T;
  etag: string;
}

export interface QueryResponse<T = unknown> {
  results: QueryItem<T>[];
  /** Pass as `page.token` to get the next page; absent on the last page. */
  token?: string;
}

/**
 * One state store. Every engine implements it and passes the same conformance suite.
 * Keys given here are user keys; the engine applies the key prefix strategy.
 *
 * @example
 * const entry = await store.get<Order>('o1');          // { value, etag } | undefined
 * await store.save({ key: 'o1', value: order, etag: entry?.etag });
 */
export interface StateStore {
  /** The component name this store was created under. */
  readonly name: string;
  get<T = unknown>(key: string, options?: GetOptions): Promise<StateEntry<T> | undefined>;
  /** Saves one item or several; several are written all-or-nothing. */
  save(items: SaveRequest | SaveRequest[]): Promise<void>;
  delete(key: string, options?: Omit<DeleteRequest, 'key'>): Promise<void>;
  /** Reads many keys; one missing or failing key does not fail the others. */
  bulkGet<T = unknown>(keys: string[], options?: GetOptions): Promise<BulkGetItem<T>[]>;
  /** Saves many items independently (not atomic); one result per item, in order. */
  bulkSave(items: SaveRequest[]): Promise<BulkResult[]>;
  /** Deletes many items independently (not atomic); one result per item, in order. */
  bulkDelete(items: DeleteRequest[]): Promise<BulkResult[]>;
  /** Applies upserts and deletes atomically: all of them, or none (the first failure is thrown). */
  transaction(operations: TransactionOperation[], metadata?: Record<string, string>): Promise<void>;
  /** Filters, sorts and pages the store's items. */
  query<T = unknown>(query: StateQuery, metadata?: Record<string, string>): Promise<QueryResponse<T>>;
  close(): Promise<void>;
}
