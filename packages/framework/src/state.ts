import type { SaveRequest, StateEntry, StateStore } from '@sprout/state';
import { FrameworkError } from './errors.js';

type KeyArg = string | { key: string };

/**
 * `ctx.state`: the function's named state stores (the `states` block of its context). Every call
 * takes an optional store name; without one the first declared store is used. Accepts the
 * anchor's argument shapes (`get({key})`, `save([{key, value}])`) as well as plain keys.
 *
 * @example
 * await ctx.state.save({ key: 'order-1', value: { total: 3 } });
 * const order = await ctx.state.get<Order>('order-1');          // Order | undefined
 * const { value, etag } = (await ctx.state.entry<Order>('order-1'))!;
 * await ctx.state.save({ key: 'order-1', value, etag });        // conflict error if changed since
 */
export class FunctionState {
  constructor(private readonly stores: ReadonlyMap<string, StateStore>) {}

  /** The store named `name` (or the first one), for its full API. */
  store(name?: string): StateStore {
    if (name === undefined) {
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

  /** The stored value, or undefined when the key is absent (never ""). */
  async get<T = unknown>(key: KeyArg, store?: string): Promise<T | undefined> {
    return (await this.store(store).get<T>(keyOf(key)))?.value;
  }

  /** The stored value with its etag, for a conditional write. */
  entry<T = unknown>(key: KeyArg, store?: string): Promise<StateEntry<T> | undefined> {
    return this.store(store).get<T>(keyOf(key));
  }

  /** Values for several keys, in order; absent keys are undefined. */
  async getBulk<T = unknown>(
    keys: string[] | { keys: string[] },
    store?: string,
  ): Promise<{ key: string; value: T | undefined; etag?: string }[]> {
    const list = Array.isArray(keys) ? keys : keys.keys;
    const s = this.store(store);
    return Promise.all(
      list.map(async (key) => {
        const e = await s.get<T>(key);
        return e ? { key, value: e.value, etag: e.etag } : { key, value: undefined };
      }),
    );
  }

  save(items: SaveRequest | SaveRequest[], store?: string): Promise<void> {
    return this.store(store).save(items);
  }

  delete(key: KeyArg, store?: string, options?: { etag?: string }): Promise<void> {
    return this.store(store).delete(keyOf(key), options);
  }
}

function keyOf(k: KeyArg): string {
  const key = typeof k === 'string' ? k : k?.key;
  if (typeof key !== 'string' || key === '') throw new TypeError('a state key must be a non-empty string');
  return key;
}
