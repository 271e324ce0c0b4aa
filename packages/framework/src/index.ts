export { serve, DEFAULT_IGNORED_ROUTES, type ServeOptions, type RunningServer } from './serve.js';
export { loadFunction, type FunctionConfig, type LoadedFunction, type LoadOptions } from './load.js';
export { FunctionServer, type FunctionServerOptions, type Mount } from './server.js';
export { resolveRunOptions, parseSize, type RawRunOptions, type RunOptions } from './options.js';
export {
  parseFunctionContext,
  defaultFunctionContext,
  type FunctionContext,
  type ComponentRef,
  type TracingConfig,
} from './context.js';
export { SIGNATURE_TYPES, parseSignatureType, type SignatureType } from './signature.js';
export {
  http,
  cloudEvent,
  openfunction,
  event,
  typed,
  getFunction,
  type HttpFunction,
  type CloudEventFunction,
  type EventFunction,
  type OpenFunction,
  type TypedFunction,
  type AnyFunction,
} from './registry.js';
export { InvocationContext, type FunctionResources, type SendResult } from './invocation.js';
export { FunctionState } from './state.js';
export type { CloudEvent, LegacyEventContext } from './cloudevents.js';
export { SproutRequest } from './http/request.js';
export { SproutResponse } from './http/response.js';
export type { FunctionResponse } from './result.js';
export {
  createOutput,
  NATIVE_OUTPUT_TYPES,
  MemoryOutput,
  type ComponentSpec,
  type Output,
} from './outputs/index.js';
export { PLUGIN_NAME_FIELD, PLUGIN_VERSION_FIELD, type PluginInstance } from './plugins.js';
export { resolveFunctionModule, type FunctionModule } from './loader/resolve.js';
export {
  FrameworkError,
  HttpError,
  OutputError,
  FrameworkErrorCodes,
  type FrameworkErrorCode,
} from './errors.js';

/** OpenFunction's plugin base class, for plugins written against the anchor. */
export { Plugin } from './plugin-base.js';
