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

/**
 * One state store. Every engine implements it and passes the same conformance suite.
 * Keys given here are user keys; the engine applies the key prefix strategy.
 */
export interface StateStore {
  /** The component name this store was created under. */
  readonly name: string;
  get<T = unknown>(key: string, options?: GetOptions): Promise<StateEntry<T> | undefined>;
  save(items: SaveRequest | SaveRequest[]): Promise<void>;
  delete(key: string, options?: Omit<DeleteRequest, 'key'>): Promise<void>;
  close(): Promise<void>;
}
