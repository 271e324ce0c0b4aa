import { checkFunctionContext, ContextIssue } from './context-schema.js';
import { FrameworkError } from './errors.js';

/** One Dapr component reference in FUNC_CONTEXT (an input, output or state store). */
export interface ComponentRef {
  componentName: string;
  /** `bindings.<type>`, `pubsub.<type>` or `state.<type>`. */
  componentType: string;
  uri?: string | undefined;
  operation?: string | undefined;
  metadata?: Record<string, string> | undefined;
  [field: string]: unknown;
}

/** The `pluginsTracing` block: OpenTelemetry over OTLP/HTTP when enabled. */
export interface TracingConfig {
  enabled: boolean;
  provider?:
    | {
        name: string;
        /** SkyWalking's OAP address in OpenFunction; for `opentelemetry`, the OTLP/HTTP endpoint. */
        oapServer?: string | undefined;
        exporter?:
          { endpoint?: string | undefined; protocol?: string | undefined; [k: string]: unknown } | undefined;
        [field: string]: unknown;
      }
    | undefined;
  tags?: Record<string, string> | undefined;
  baggage?: Record<string, string> | undefined;
  [field: string]: unknown;
}

/**
 * OpenFunction's function context (FUNC_CONTEXT). Known fields are typed; fields OpenFunction's
 * controller adds that the framework does not use (podName, httpPattern, …) pass through.
 */
export interface FunctionContext {
  name: string;
  version: string;
  runtime: 'knative' | 'async';
  port?: string | number | undefined;
  inputs?: Record<string, ComponentRef> | undefined;
  outputs?: Record<string, ComponentRef> | undefined;
  states?: Record<string, ComponentRef> | undefined;
  prePlugins?: string[] | undefined;
  postPlugins?: string[] | undefined;
  pluginsTracing?: TracingConfig | undefined;
  tracing?: TracingConfig | undefined;
  [field: string]: unknown;
}

/**
 * Parses FUNC_CONTEXT (a JSON string, or an already-parsed object). An invalid context is an error
 * naming the field, never a silent `undefined` as in the anchor.
 *
 * @example
 * await parseFunctionContext('{"name":"hello","runtime":"knative","outputs":{}}');
 */
export async function parseFunctionContext(input: string | object): Promise<FunctionContext> {
  let raw: unknown = input;
  if (typeof input === 'string') {
    const text = input.trim();
    try {
      raw = JSON.parse(text);
    } catch (err) {
      // OpenFunction's Go framework also accepts the context base64-encoded.
      const decoded = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, 'base64').toString('utf8') : '';
      try {
        raw = JSON.parse(decoded);
      } catch {
        throw new FrameworkError(
          'SPROUT_ERR_FRAMEWORK_INVALID_CONTEXT',
          `FUNC_CONTEXT is not valid JSON: ${(err as Error).message}`,
          { field: 'FUNC_CONTEXT' },
        );
      }
    }
  }
  let ctx: FunctionContext;
  try {
    ctx = checkFunctionContext(raw);
  } catch (err) {
    if (!(err instanceof ContextIssue)) throw err;
    throw new FrameworkError(
      'SPROUT_ERR_FRAMEWORK_INVALID_CONTEXT',
      `FUNC_CONTEXT field "${err.path}": ${err.message}`,
      {
        field: err.path,
      },
    );
  }
  if (!ctx.pluginsTracing && ctx.tracing) ctx.pluginsTracing = ctx.tracing;
  return ctx;
}

/** The context a plain function gets when no FUNC_CONTEXT is given. */
export function defaultFunctionContext(name: string): FunctionContext {
  return { name, version: 'v1.0.0', runtime: 'knative' };
}
