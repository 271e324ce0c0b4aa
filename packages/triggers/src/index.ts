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
