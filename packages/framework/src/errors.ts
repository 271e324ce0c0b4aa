import { SproutError } from '@sprout/http';

/**
 * Every error the framework raises carries one of these stable codes. Each is documented with how
 * to fix it in the package README (a test keeps the two in step). Retired codes are never reused.
 */
export const FrameworkErrorCodes = {
  SPROUT_ERR_FRAMEWORK_INVALID_OPTION: 'A flag or environment variable has a value the framework cannot use.',
  SPROUT_ERR_FRAMEWORK_INVALID_CONTEXT:
    'FUNC_CONTEXT / --context is not valid JSON or a field has the wrong shape.',
  SPROUT_ERR_FRAMEWORK_UNKNOWN_SIGNATURE:
    'The signature type is not one of http, event, cloudevent, openfunction, typed.',
  SPROUT_ERR_FRAMEWORK_MODULE_NOT_FOUND: 'No function module was found at the source location.',
  SPROUT_ERR_FRAMEWORK_MODULE_LOAD_FAILED: 'The function module threw while it was being imported.',
  SPROUT_ERR_FRAMEWORK_TARGET_NOT_FOUND: 'The module does not export or register the target function.',
  SPROUT_ERR_FRAMEWORK_TARGET_NOT_FUNCTION: 'The target exists but is not a function.',
  SPROUT_ERR_FRAMEWORK_BODY_TOO_LARGE: 'The request body is larger than the configured limit.',
  SPROUT_ERR_FRAMEWORK_MALFORMED_BODY: 'The request body does not parse as its content type says.',
  SPROUT_ERR_FRAMEWORK_MALFORMED_CLOUDEVENT:
    'The request is not a valid CloudEvent (binary or structured mode).',
  SPROUT_ERR_FRAMEWORK_MALFORMED_BULK:
    'A Dapr bulk delivery (`{entries: [...]}`) to an async pub/sub input has a malformed envelope.',
  SPROUT_ERR_FRAMEWORK_FUNCTION_FAILED: 'The function threw or rejected.',
  SPROUT_ERR_FRAMEWORK_TIMEOUT: 'The function did not finish within the request timeout.',
  SPROUT_ERR_FRAMEWORK_UNKNOWN_OUTPUT: 'ctx.send named an output that the function context does not declare.',
  SPROUT_ERR_FRAMEWORK_OUTPUT_FAILED: 'Delivery to an output (binding or pub/sub) failed.',
  SPROUT_ERR_FRAMEWORK_UNKNOWN_STATE_STORE:
    'ctx.state named a state store that the function context does not declare.',
  SPROUT_ERR_FRAMEWORK_STATE_ARGUMENT:
    'A ctx.state call got an argument of the wrong shape (OpenFunction shapes: {key}, {dataObjects}, {keys}, {operations}, {query}).',
  SPROUT_ERR_FRAMEWORK_STATE_COMPONENT_MISSING:
    'A state named in the context has no component file and no Dapr sidecar is configured.',
  SPROUT_ERR_FRAMEWORK_PLUGIN_NOT_FOUND:
    'A plugin named in prePlugins/postPlugins is not in <source>/plugins.',
  SPROUT_ERR_FRAMEWORK_PLUGIN_FAILED: 'A plugin hook threw.',
  SPROUT_ERR_FRAMEWORK_TRACING_PROVIDER: 'pluginsTracing names a provider the framework does not support.',
  SPROUT_ERR_FRAMEWORK_ROUTE_CONFLICT: 'Two functions in one process were given the same path.',
  SPROUT_ERR_FRAMEWORK_NO_ROUTE: 'A request matched no mounted function (404).',
  SPROUT_ERR_FRAMEWORK_UNKNOWN_INPUT:
    'An async function received a request for an input it does not declare (404).',
} as const;

export type FrameworkErrorCode = keyof typeof FrameworkErrorCodes;

/**
 * An error with a stable code; `field` names the option or context field at fault when there is
 * one. A framework error that reaches a client without being an HttpError is a 500.
 */
export class FrameworkError extends SproutError<FrameworkErrorCode> {
  override name = 'FrameworkError';
  constructor(
    code: FrameworkErrorCode,
    message: string,
    options?: { cause?: unknown; field?: string | undefined; status?: number },
  ) {
    super(code, message, { status: options?.status ?? 500, field: options?.field, cause: options?.cause });
  }
}

/** An error answered with an HTTP status; `expose` says whether its message may reach the client. */
export class HttpError extends FrameworkError {
  override name = 'HttpError';
  constructor(
    status: number,
    code: FrameworkErrorCode,
    message: string,
    readonly expose = true,
    options?: { cause?: unknown },
  ) {
    super(code, message, { ...options, status });
  }
}

/** Raised by `ctx.send` when delivery to an output fails; `output` is the output's name. */
export class OutputError extends FrameworkError {
  override name = 'OutputError';
  constructor(
    code: 'SPROUT_ERR_FRAMEWORK_OUTPUT_FAILED' | 'SPROUT_ERR_FRAMEWORK_UNKNOWN_OUTPUT',
    readonly output: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
