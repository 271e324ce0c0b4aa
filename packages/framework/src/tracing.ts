import type { IncomingHttpHeaders } from 'node:http';
import type { TracingConfig } from './context.js';
import { createLogger, type Logger } from '@sprout/observe';
import { FrameworkError } from './errors.js';

/** Server-side tracing for invocations: W3C traceparent in, a SERVER span per call, OTLP out. */
export interface Tracing {
  /** Runs `run` inside a span continuing the caller's trace; the span ends when `run` settles. */
  trace<T>(
    name: string,
    headers: IncomingHttpHeaders,
    attributes: Record<string, string | number>,
    run: () => Promise<T>,
  ): Promise<T>;
  /** Adds `traceparent`/`tracestate` for the active span to outgoing headers. */
  inject(headers: Record<string, string>): void;
  /** Flushes spans not yet exported and shuts the exporter down. */
  close(): Promise<void>;
}

const OTLP_PROVIDERS = ['opentelemetry', 'otel', 'otlp'];

/** SkyWalking's native agent port (gRPC) and the OAP's REST port, where it takes OTLP/HTTP at /v1/traces. */
const SKYWALKING_GRPC_PORT = '11800';
const SKYWALKING_HTTP_PORT = '12800';

/**
 * The OTLP/HTTP traces URL for a tracing block. OpenTelemetry: `provider.exporter.endpoint`, else
 * `provider.oapServer`, else the OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variables (undefined). SkyWalking
 * (OpenFunction's default provider): `provider.exporter.endpoint` when given, else the OAP named by
 * `oapServer` on its OTLP/HTTP port: `host:11800` (the agent port OpenFunction's samples name) becomes
 * `http://host:12800/v1/traces`; any other port is kept.
 */
export function otlpTracesUrl(config: TracingConfig): string | undefined {
  const provider = config.provider?.name?.toLowerCase() ?? 'opentelemetry';
  let endpoint = config.provider?.exporter?.endpoint;
  if (!endpoint && config.provider?.oapServer) {
    endpoint = config.provider.oapServer;
    if (provider === 'skywalking') {
      const scheme = /^https?:\/\//.test(endpoint);
      const url = new URL(scheme ? endpoint : `http://${endpoint}`);
      if (url.port === SKYWALKING_GRPC_PORT || (url.port === '' && !scheme)) url.port = SKYWALKING_HTTP_PORT;
      endpoint = url.origin;
    }
  }
  if (!endpoint) return undefined;
  if (!/^https?:\/\//.test(endpoint)) endpoint = `http://${endpoint}`;
  if (!/\/v1\/traces\/?$/.test(endpoint)) endpoint = `${endpoint.replace(/\/$/, '')}/v1/traces`;
  return endpoint;
}

/**
 * Builds tracing from the context's `pluginsTracing` block, or undefined when it is off. Tracing
 * never stops a function from starting: a provider Sprout does not speak, or a set-up that fails,
 * is logged as a warning (code SPROUT_ERR_FRAMEWORK_TRACING_PROVIDER) and the function runs untraced.
 */
export async function createTracing(
  config: TracingConfig | undefined,
  serviceName: string,
  logger?: Logger,
): Promise<Tracing | undefined> {
  if (!config?.enabled) return undefined;
  try {
    return await startTracing(config, serviceName);
  } catch (err) {
    const e =
      err instanceof FrameworkError
        ? err
        : new FrameworkError(
            'SPROUT_ERR_FRAMEWORK_TRACING_PROVIDER',
            `tracing could not start: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
    (logger ?? createLogger({ name: 'framework' })).warn(
      { code: e.code, field: e.field, reason: e.message },
      'tracing is off for this function',
    );
    return undefined;
  }
}

/**
 * The OpenTelemetry SDK is loaded only when tracing is enabled, so functions without it do not pay
 * its start-up cost. Spans go over OTLP/HTTP to `otlpTracesUrl(config)`.
 */
async function startTracing(config: TracingConfig, serviceName: string): Promise<Tracing> {
  const provider = config.provider?.name?.toLowerCase() ?? 'opentelemetry';
  if (!OTLP_PROVIDERS.includes(provider) && provider !== 'skywalking') {
    throw new FrameworkError(
      'SPROUT_ERR_FRAMEWORK_TRACING_PROVIDER',
      `tracing provider "${config.provider?.name}" is not supported; use "skywalking" or "opentelemetry" (both export OTLP/HTTP)`,
      { field: 'pluginsTracing.provider.name' },
    );
  }
  const [api, core, base, node, otlp, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const endpoint = otlpTracesUrl(config);
  const exporter = new otlp.OTLPTraceExporter(endpoint ? { url: endpoint } : {});
  const tags = config.tags ?? {};
  const tracerProvider = new node.NodeTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': tags.func ?? serviceName, ...tags }),
    spanProcessors: [new base.BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
  });
  const propagator = new core.CompositePropagator({
    propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
  });
  tracerProvider.register({ propagator });
  const tracer = tracerProvider.getTracer('@sprout/framework');
  const baggage = config.baggage ?? {};
  const getter = {
    keys: (h: IncomingHttpHeaders) => Object.keys(h),
    get: (h: IncomingHttpHeaders, k: string) => h[k],
  };

  return {
    trace(name, headers, attributes, run) {
      let parent = propagator.extract(api.ROOT_CONTEXT, headers, getter);
      if (Object.keys(baggage).length) {
        const entries = Object.fromEntries(Object.entries(baggage).map(([k, v]) => [k, { value: v }]));
        parent = api.propagation.setBaggage(parent, api.propagation.createBaggage(entries));
      }
      return tracer.startActiveSpan(name, { kind: api.SpanKind.SERVER, attributes }, parent, async (span) => {
        try {
          const result = await run();
          span.setStatus({ code: api.SpanStatusCode.OK });
          return result;
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    inject(headers) {
      propagator.inject(api.context.active(), headers, { set: (h, k, v) => (h[k] = v) });
    },
    async close() {
      await tracerProvider.shutdown();
    },
  };
}
