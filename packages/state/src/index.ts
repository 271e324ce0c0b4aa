export type {
  StateStore,
  StateEntry,
  SaveRequest,
  DeleteRequest,
  GetOptions,
  StateOptions,
  Concurrency,
  Consistency,
  BulkGetItem,
  BulkResult,
  TransactionOperation,
  QueryFilter,
  QuerySort,
  StateQuery,
  QueryItem,
  QueryResponse,
} from './types.js';
export { MemoryStateStore } from './memory.js';
export { StateError, isStateError, STATE_ERROR_CODES, type StateErrorCode } from './errors.js';
export { KEY_SEPARATOR, keyPrefixOf, type KeyPrefixContext } from './key.js';
export { parseQuery, runQuery, matches } from './query.js';
export { EngineStore, type EngineStoreOptions } from './store.js';
export type { StorageEngine, RawItem, WriteOp } from './engine.js';
export { SqliteEngine, type SqliteEngineOptions } from './engines/sqlite.js';
export { RedisEngine, type RedisEngineOptions } from './engines/redis.js';
export { PostgresEngine, type PostgresEngineOptions } from './engines/postgres.js';
export { DaprSidecarStore, type DaprSidecarOptions } from './engines/dapr.js';
export {
  loadComponents,
  resolveEngineSettings,
  componentForRef,
  LOCAL_STATE_TYPES,
  type EngineSettings,
} from './component.js';
export { openStateStore, StateStores, type OpenOptions } from './open.js';
export { createStateApiServer, type StateApiServer, type StateApiServerOptions } from './server.js';
export { renderComponent, type ComponentManifest, type RenderOptions } from './render.js';
export { pgConnectionConfig, type PgConnectionConfig } from './engines/pg-conninfo.js';
