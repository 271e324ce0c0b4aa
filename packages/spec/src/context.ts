// OpenFunction's function context (FUNC_CONTEXT): what the spec derives and the framework reads.

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
