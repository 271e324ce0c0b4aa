export { SpecError, SPEC_ERROR_CODES, type SpecErrorCode } from './errors.js';
export {
  functionSchema,
  FUNCTION_API_VERSION,
  ANNOTATION_PREFIX,
  ANNOTATIONS,
  EIP_POOL_ANNOTATION,
  EIP_IP_ANNOTATION,
  type FunctionDocument,
} from './function-schema.js';
export {
  DEFAULT_SCALING,
  type ResolvedFunction,
  type RouteRule,
  type ScalingSpec,
  type ExposeSpec,
  type BuildSpec,
  type InputTrigger,
  type ScalerTrigger,
  type EventScalingSpec,
  type FunctionTriggers,
} from './resolved.js';
export { LOCAL_INPUT_TYPES, LOCAL_SCALER_TYPES } from './triggers.js';
export type { FunctionContext, ComponentRef, TracingConfig } from './context.js';
export {
  loadFunctions,
  loadFunctionDir,
  loadFunctionYaml,
  resolveFunctionText,
  type LoadResult,
} from './load.js';
export {
  parseComponent,
  componentOf,
  componentSpecSchema,
  type ComponentDocument,
  type ComponentSpec,
  type MetadataItem,
  type MetadataPositions,
} from './component.js';
export { resolveMetadata, resolveComponent } from './secrets.js';
export { functionFieldLocator } from './locate.js';
export { plainFunction, isFunctionFolder, functionYamlOf } from './folder.js';
export { loadResources, type Resources, type ResourcesOptions } from './component-files.js';
export { parseSubscription, type SubscriptionDocument } from './subscription.js';
export {
  parseResiliency,
  resiliencyBeside,
  type BreakerCounter,
  type ResiliencyBreaker,
  type ResiliencyDocument,
  type ResiliencyPolicyNames,
  type ResiliencyRetry,
} from './resiliency.js';
