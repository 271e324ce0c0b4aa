export {
  createManifestValidator,
  type ManifestValidator,
  type ManifestIssue,
  type ValidationResult,
} from './validate.js';
export { loadCrds, vendoredCrdsDir, type CrdVersion } from './crds.js';
export { KubeError, type KubeErrorCode } from './errors.js';
export {
  renderFunction,
  FUNCTION_API_VERSION,
  type FunctionManifest,
  type RenderFunctionInput,
  type FunctionManifestInput,
} from './function.js';
export {
  renderHttpScaledObject,
  renderWorkload,
  usesKedaHttp,
  functionPort,
  HTTP_SCALED_OBJECT_API_VERSION,
  type KubeObject,
} from './http-scaling.js';
export {
  isAsyncFunction,
  renderAsyncWorkload,
  renderScaledObject,
  renderSubscription,
  renderResiliency,
  SCALED_OBJECT_API_VERSION,
  withClusterScalers,
  renderMqttScaler,
  needsMqttScaler,
  MQTT_SCALER_PORT,
  type MqttScalerInput,
  type SubscriptionInput,
} from './async-scaling.js';
export { dnsLabel } from './names.js';
export {
  renderShipwright,
  SHIPWRIGHT_API_VERSION,
  BUILDPACKS_STRATEGY,
  type ShipwrightInput,
  type ShipwrightObjects,
  type FieldLocator,
} from './shipwright.js';
