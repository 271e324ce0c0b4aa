export type {
  StateStore,
  StateEntry,
  SaveRequest,
  DeleteRequest,
  GetOptions,
  StateOptions,
  Concurrency,
  Consistency,
} from './types.js';
export { MemoryStateStore } from './memory.js';
export { StateError, type StateErrorCode } from './errors.js';
