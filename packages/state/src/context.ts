import { StateError } from './errors.js';
import type { StateStores } from './open.js';
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

/**
 * What a function sees as `ctx.state`: every StateStore operation on the function's first store,
 * and `store(name)` for any other named store of its `states` block.
 *
 * @example
 * const order = await ctx.state.get<Order>('o1');            // first store
 * await ctx.state.store('audit').save({ key: 'o1', value: order!.value });
 */
export interface StateContext extends StateStore {
  /** The store with this component name (SPROUT_ERR_STATE_STORE_NOT_FOUND otherwise). */
  store(name: string): StateStore;
  /** Names of the configured stores, the default first. */
  names(): string[];
}

/** Builds `ctx.state` over a function's stores. `close()` closes every store. */
export function createStateContext(stores: StateStores): StateContext {
  const first = (): StateStore => {
    const s = stores.default;
    if (!s) {
      throw new StateError(
        'SPROUT_ERR_STATE_STORE_NOT_FOUND',
        'this function has no state store: add a state component (spec.serving.states or --resources-path)',
      );
    }
    return s;
  };
  return {
    get name() {
      return stores.default?.name ?? '';
    },
    store: (name) => stores.get(name),
    names: () => stores.names(),
    get: <T>(key: string, o?: GetOptions): Promise<StateEntry<T> | undefined> => first().get<T>(key, o),
    save: (items: SaveRequest | SaveRequest[]) => first().save(items),
    delete: (key: string, o?: Omit<DeleteRequest, 'key'>) => first().delete(key, o),
    bulkGet: <T>(keys: string[], o?: GetOptions): Promise<BulkGetItem<T>[]> => first().bulkGet<T>(keys, o),
    bulkSave: (items: SaveRequest[]): Promise<BulkResult[]> => first().bulkSave(items),
    bulkDelete: (items: DeleteRequest[]): Promise<BulkResult[]> => first().bulkDelete(items),
    transaction: (ops: TransactionOperation[], md?: Record<string, string>) => first().transaction(ops, md),
    query: <T>(q: StateQuery, md?: Record<string, string>): Promise<QueryResponse<T>> =>
      first().query<T>(q, md),
    close: () => stores.close(),
  };
}
