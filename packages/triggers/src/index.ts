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
export {
  KEDA_DEFAULTS,
  LAG_TRIGGER_TYPES,
  LagDecider,
  LagPoller,
  lagScalingOf,
  readScaleOptions,
  readTrigger,
  readingOf,
  type Demand,
  type LagDecision,
  type LagPolicy,
  type LagPollerOptions,
  type LagTrigger,
  type LagTriggerType,
  type TriggerReading,
  type TriggerSample,
} from './scaling/index.js';
export { createDaprApiServer, type DaprApiServer, type DaprApiServerOptions } from './api/server.js';
export {
  FunctionDelivery,
  TriggerDelivery,
  DEAD_LETTER_METADATA,
  LATENCY_BUCKETS_MS,
  DEFAULT_RETRY_POLICY,
  readRetryPolicy,
  backoffMs,
  type BindingTrigger,
  type DeliveryOptions,
  type DeliveryTarget,
  type PubSubTrigger,
  type Trigger,
  type TriggerCounts,
  type RetryPolicy,
  type RetryPolicySpec,
} from './delivery/index.js';
