export { FunctionDelivery } from './function.js';
export { TriggerDelivery, DEAD_LETTER_METADATA } from './trigger.js';
export type {
  BindingTrigger,
  DeliveryOptions,
  DeliveryTarget,
  PubSubTrigger,
  Trigger,
} from './trigger-types.js';
export { LATENCY_BUCKETS_MS, type LatencyHistogram, type TriggerCounts } from './counters.js';
export {
  DEFAULT_RETRY_POLICY,
  readRetryPolicy,
  backoffMs,
  type RetryPolicy,
  type RetryPolicySpec,
} from './policy.js';
export { triggersFor, type TriggerEngines, type TriggersForOptions } from './from-spec.js';
export { compileMatch, type Matcher } from './match.js';
export type { RouteRule } from './routes.js';
