export type { FunctionUpstream, InstanceEndpoint, ScalingPolicy } from './upstream.js';
export {
  createGateway,
  type Gateway,
  type GatewayOptions,
  type FunctionStatus,
  type DispatchOptions,
} from './gateway.js';
export { type GatewayRoute, type RouteOptions, ROUTE_DEFAULTS } from './options.js';
export { RouteTable, normalizeHost, type RouteMatch, type RouteHit } from './route-table.js';
export { Scaler, RateWindow, SCALING_DEFAULTS, resolvePolicy, type ScaleDecision } from './scaler.js';
export { GatewayError, GatewayErrorCodes, type GatewayErrorCode } from './errors.js';
