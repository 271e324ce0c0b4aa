export {
  createPlatform,
  Platform,
  type PlatformOptions,
  type FunctionView,
  type Problem,
  type BrokenSource,
  type StartSources,
} from './platform.js';
export { startApi, type ApiServer } from './api.js';
export { routesFor } from './routes.js';
export { upstreamFor } from './upstream.js';
export { FunctionRunner, type RunnerStatus } from './runner.js';
export type { InstanceInfo, InstanceState, InstanceTimings } from './instance.js';
export type { ColdStartBreakdown } from './cold-start.js';
export { EventBus, type PlatformEvent, type PlatformEventType } from './events.js';
export { PlatformError, PLATFORM_ERROR_CODES, type PlatformErrorCode } from './errors.js';
export { startDev, type DevOptions, type DevServer } from './dev.js';
