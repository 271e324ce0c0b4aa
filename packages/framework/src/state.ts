import type { QueryItem, SaveRequest, StateEntry, StateStore } from '@sprout/state';
import { FrameworkError } from './errors.js';
import {
  bulkGet,
  bulkKeys,
  queryOf,
  saveItems,
  singleKey,
  transactionOf,
  type BulkStateItem,
} from './state-openfunction.js';

/** What the Dapr SDK's state query returns (OpenFunction's `ctx.state.query`). */
export interface StateQueryResult<T = unknown> {
  results: { key: string; data: T; etag?: string }[];
  token?: string;
}

/**
 * `ctx.state`: the function's named state stores (the `states` block of its context). Every call
 * takes an optional store (the name under `states`, or the component name); without one the first
 * declared store is used, as OpenFunction does.
 *
 * The calls take OpenFunction 0.6's argument objects and give the Dapr SDK's results
 * (`save({dataObjects})`, `get({key})` → value or '', `getBulk({keys})` → `[{key, data, etag}]`,
 * `delete({key})`, `transaction({operations})`, `query({query})` → `{results, token}`), and beside
 * them Sprout's typed forms: a plain key, a `SaveRequest`, `entry()` for the etag, `store()` for a
 * store's whole API.
 *
 * @example
 * await ctx.state.save({ key: 'order-1', value: { total: 3 } });
 * const order = await ctx.state.get<Order>('order-1');          // Order | undefined
 * const { value, etag } = (await ctx.state.entry<Order>('order-1'))!;
 * await ctx.state.save({ key: 'order-1', value, etag });        // conflict error if changed since
 * await ctx.state.save({ dataObjects: [{ key: 'o2', value: 1 }] }); // OpenFunction's shape
 */
export class FunctionState {
  constructor(private readonly stores: ReadonlyMap<string, StateStore>) {}

  /** The store named `name` (or the first one), for its full API. */
  store(name?: string): StateStore {
    if (name === undefined || name === '') {
      const first = this.stores.values().next();
      if (first.done) {
        throw new FrameworkError(
          'SPROUT_ERR_FRAMEWORK_UNKNOWN_STATE_STORE',
          'this function declares no state store: add one under "states" in its context or function.yaml',
        );
      }
      return first.value;
    }
    const store = this.stores.get(name) ?? [...this.stores.values()].find((s) => s.name === name);
    if (!store) {
      throw new FrameworkError(
        'SPROUT_ERR_FRAMEWORK_UNKNOWN_STATE_STORE',
        `no state store "${name}"; declared: ${[...this.stores.keys()].join(', ') || 'none'}`,
      );
    }
    return store;
  }

  /**
   * A plain key gives the stored value or undefined (never ""). OpenFunction's `{key}` gives what
   * the Dapr SDK gives: the value, or '' when the key is absent.
   */
  get<T = unknown>(key: string, store?: string): Promise<T | undefined>;
  get<T = unknown>(data: { key: string } | Record<string, string>, store?: string): Promise<T | ''>;
  async get<T = unknown>(key: string | object, store?: string): Promise<T | undefined | ''> {
    if (typeof key === 'string') return (await this.store(store).get<T>(plainKey(key)))?.value;
    const entry = await this.store(store).get<T>(singleKey('get', key));
    return entry ? entry.value : '';
  }

  /** The stored value with its etag, for a conditional write. */
  entry<T = unknown>(key: string | { key: string }, store?: string): Promise<StateEntry<T> | undefined> {
    return this.store(store).get<T>(typeof key === 'string' ? plainKey(key) : singleKey('entry', key));
  }

  /**
   * Several keys as the Dapr SDK's getBulk answers: `{key, data, etag}` per found key, `{key}` per
   * missing one. Takes OpenFunction's `{keys, parallelism?, metadata?}` or a plain list.
   */
  getBulk(
    keys: string[] | { keys: string[]; parallelism?: number; metadata?: unknown },
    store?: string,
  ): Promise<BulkStateItem[]> {
    const { keys: list, metadata } = bulkKeys(keys);
    return bulkGet(this.store(store), list, metadata);
  }

  /** One `SaveRequest`, a list of them, or OpenFunction's `{dataObjects: [...]}`; all or nothing. */
  save(items: SaveRequest | SaveRequest[] | { dataObjects: SaveRequest[] }, store?: string): Promise<void> {
    const list =
      Array.isArray(items) || (typeof items === 'object' && items !== null && 'key' in items)
        ? (items as SaveRequest | SaveRequest[])
        : saveItems(items);
    return this.store(store).save(list);
  }

  /** A plain key or OpenFunction's `{key}`; `options.etag` makes it conditional. */
  delete(key: string | { key: string }, store?: string, options?: { etag?: string }): Promise<void> {
    return this.store(store).delete(
      typeof key === 'string' ? plainKey(key) : singleKey('delete', key),
      options,
    );
  }

  /** OpenFunction's `{operations: [{operation: 'upsert'|'delete', request}], metadata?}`, atomically. */
  transaction(
    data: { operations?: unknown[]; metadata?: Record<string, string> | null },
    store?: string,
  ): Promise<void> {
    const { operations, metadata } = transactionOf(data);
    return this.store(store).transaction(operations, metadata);
  }

  /** OpenFunction's `{query: {filter, sort, page}}`; results as the Dapr SDK gives them (`data`, not `value`). */
  async query<T = unknown>(data: { query: object }, store?: string): Promise<StateQueryResult<T>> {
    const res = await this.store(store).query<T>(queryOf(data));
    return {
      results: res.results.map((r: QueryItem<T>) => ({ key: r.key, data: r.value, etag: r.etag })),
      ...(res.token ? { token: res.token } : {}),
    };
  }
}

function plainKey(key: string): string {
  if (key === '')
    throw new FrameworkError(
      'SPROUT_ERR_FRAMEWORK_STATE_ARGUMENT',
      'a state key must be a non-empty string',
      {
        status: 400,
      },
    );
  return key;
}
