import { isAbsolute, join } from 'node:path';
import { insideDir, safeSegment } from '@sprout/http';
import type { ComponentDocument } from '@sprout/spec';
import { resolveEngineSettings } from './component.js';
import { StateError } from './errors.js';
import { keyPrefixOf } from './key.js';
import { EngineStore } from './store.js';
import { MemoryEngine } from './memory.js';
import { SqliteEngine } from './engines/sqlite.js';
import { RedisEngine } from './engines/redis.js';
import { PostgresEngine } from './engines/postgres.js';
import { DaprSidecarStore, type DaprSidecarOptions } from './engines/dapr.js';
import type { StateStore } from './types.js';

export interface OpenOptions {
  /** The app id used by the `appid` and `namespace` key prefix strategies. */
  appId: string;
  /** Where embedded engines keep their files (SQLite: `<dataDir>/state/<name>.db`). */
  dataDir: string;
  /** Namespace for the `namespace` key prefix strategy; default NAMESPACE or `default`. */
  namespace?: string;
  /** Environment read for `envRef` / `secretKeyRef`; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Talk to a Dapr sidecar instead of running the engine (Kubernetes); port and token default to DAPR_HTTP_PORT (3500) and DAPR_API_TOKEN. */
  sidecar?: DaprSidecarOptions;
  /** Largest value accepted, in bytes; default 4 MiB. */
  maxValueBytes?: number;
  /** Told about metadata keys the component's schema does not list (ignored, as Dapr does); default: a process warning. */
  onWarning?: (message: string) => void;
}

/**
 * Opens one state store for a Dapr component; the engine is chosen by `spec.type`
 * (state.sqlite, state.redis, state.postgresql, state.in-memory), or the Dapr sidecar when
 * `sidecar` is given. Fails with SPROUT_ERR_STATE_ENGINE_UNAVAILABLE when the engine cannot be
 * reached (unless the component sets `ignoreErrors: true`).
 *
 * @example
 * const [component] = loadComponents('./components');
 * const store = await openStateStore(component, { appId: 'orders', dataDir: '.sprout' });
 */
export async function openStateStore(
  component: ComponentDocument,
  options: OpenOptions,
): Promise<StateStore> {
  const name = component.metadata.name;
  const env = options.env ?? process.env;
  if (options.sidecar) {
    const token = options.sidecar.apiToken ?? env.DAPR_API_TOKEN;
    return new DaprSidecarStore(name, {
      ...options.sidecar,
      port: options.sidecar.port ?? Number(env.DAPR_HTTP_PORT || 3500),
      ...(token ? { apiToken: token } : {}),
    });
  }
  const s = resolveEngineSettings(component, env, options.onWarning);
  const prefix = keyPrefixOf({
    appId: options.appId,
    storeName: name,
    namespace: options.namespace ?? component.metadata.namespace ?? env.NAMESPACE ?? 'default',
    ...(s.keyPrefix ? { strategy: s.keyPrefix } : {}),
  });
  const common = { name, prefix, ...(options.maxValueBytes ? { maxValueBytes: options.maxValueBytes } : {}) };
  const ignore = component.spec.ignoreErrors === true;
  const unavailable = (err: unknown) =>
    new StateError(
      'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE',
      `state store "${name}" (${s.type}) cannot start: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  switch (s.type) {
    case 'state.in-memory':
      return new EngineStore(new MemoryEngine(), { ...common, cleanupIntervalMs: 60_000 });
    case 'state.sqlite': {
      // The store's name and a relative connectionString never leave the data dir (an absolute
      // connectionString is the operator's own choice, as in Dapr).
      let file = s.file ?? join('state', safeSegment(`${name}.db`, 'state store name'));
      if (file !== ':memory:' && !isAbsolute(file))
        file = insideDir(options.dataDir, file, `state store "${name}" connectionString`);
      try {
        const backend = new SqliteEngine({
          file,
          table: s.table,
          busyTimeoutMs: s.busyTimeoutMs,
          synchronous: s.synchronous,
          disableWal: s.disableWal,
        });
        return new EngineStore(backend, { ...common, cleanupIntervalMs: s.cleanupIntervalMs });
      } catch (err) {
        throw unavailable(err);
      }
    }
    case 'state.redis': {
      const backend = new RedisEngine({
        host: s.host,
        db: s.db,
        tls: s.tls,
        connectTimeoutMs: s.connectTimeoutMs,
        ...(s.username ? { username: s.username } : {}),
        ...(s.password ? { password: s.password } : {}),
      });
      try {
        await withTimeout(backend.ready(), s.connectTimeoutMs);
      } catch (err) {
        if (!ignore) {
          await backend.close();
          throw unavailable(err);
        }
      }
      return new EngineStore(backend, common);
    }
    case 'state.postgresql': {
      const backend = new PostgresEngine({
        connectionString: s.connectionString,
        table: s.table,
        timeoutMs: s.timeoutMs,
        maxConns: s.maxConns,
      });
      try {
        await backend.init();
      } catch (err) {
        if (!ignore) {
          await backend.close();
          throw unavailable(err);
        }
      }
      return new EngineStore(backend, { ...common, cleanupIntervalMs: s.cleanupIntervalMs });
    }
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no connection after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The named stores of one function (the `states` block): select by name, close all at once.
 *
 * @example
 * const stores = await StateStores.open(loadComponents('./components'), { appId: 'orders', dataDir: '.sprout' });
 * await stores.get('orders').save({ key: 'o1', value: { total: 3 } });
 * await stores.close();
 */
export class StateStores {
  readonly #stores: Map<string, StateStore>;

  constructor(stores: Iterable<StateStore>) {
    this.#stores = new Map([...stores].map((s) => [s.name, s]));
  }

  /** Opens every component; if one fails, the ones already opened are closed again. */
  static async open(components: ComponentDocument[], options: OpenOptions): Promise<StateStores> {
    const opened: StateStore[] = [];
    try {
      for (const c of components) opened.push(await openStateStore(c, options));
    } catch (err) {
      await Promise.allSettled(opened.map((s) => s.close()));
      throw err;
    }
    return new StateStores(opened);
  }

  /** The store with this component name; SPROUT_ERR_STATE_STORE_NOT_FOUND otherwise. */
  get(name: string): StateStore {
    const store = this.#stores.get(name);
    if (!store) {
      const known = [...this.#stores.keys()];
      throw new StateError(
        'SPROUT_ERR_STATE_STORE_NOT_FOUND',
        `state store "${name}" is not configured${known.length ? ` (configured: ${known.join(', ')})` : ' (no state components loaded)'}`,
      );
    }
    return store;
  }

  has(name: string): boolean {
    return this.#stores.has(name);
  }

  /** The first store, used when a function names none. */
  get default(): StateStore | undefined {
    return this.#stores.values().next().value;
  }

  names(): string[] {
    return [...this.#stores.keys()];
  }

  [Symbol.iterator](): IterableIterator<StateStore> {
    return this.#stores.values();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#stores.values()].map((s) => s.close()));
  }
}
