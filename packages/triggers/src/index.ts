export type {
  BindingResponse,
  ComponentConfig,
  Delivery,
  InputBindingEngine,
  MessageMetadata,
  OutputBindingEngine,
  PubSubEngine,
  SubscribeOptions,
  Subscription,
} from './broker.js';
export { InMemoryPubSub } from './engines/in-memory.js';
export {
  canonicalType,
  localComponentTypes,
  openInputBinding,
  openOutputBinding,
  openPubSub,
} from './engines/index.js';
export { TRIGGERS_ERROR_CODES, TriggersError, isTriggersError, type TriggersErrorCode } from './errors.js';
