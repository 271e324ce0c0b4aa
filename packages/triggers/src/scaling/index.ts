export {
  LagDecider,
  KEDA_DEFAULTS,
  readScaleOptions,
  lagScalingOf,
  type Demand,
  type LagDecision,
  type LagPolicy,
} from './decide.js';
export {
  LAG_TRIGGER_TYPES,
  readTrigger,
  readingOf,
  type LagTrigger,
  type LagTriggerType,
  type TriggerReading,
  type TriggerSample,
} from './metric.js';
export { LagPoller, type LagPollerOptions } from './poller.js';
export { createLagMetrics, type LagMetrics } from './metrics.js';
export { MqttExternalScaler, type MqttScalerOptions } from './external-scaler.js';
export { GRPC_LIMIT_DEFAULTS, type GrpcLimits, type GrpcTls } from './grpc-listener.js';
