import type { IncomingHttpHeaders } from 'node:http';
import type { TracingConfig } from './context.js';
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

const SUPPORTED = ['opentelemetry', 'otel', 'otlp'];

/**
 * Builds tracing from the context's `pluginsTracing` block. The OpenTelemetry SDK is loaded only
 * when tracing is enabled, so functions without it do not pay its start-up cost.
 * The OTLP/HTTP endpoint is `provider.exporter.endpoint`, else `provider.oapServer`, else the
 * standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variables.
 */
export async function createTracing(
  config: TracingConfig | undefined,
  serviceName: string,
): Promise<Tracing | undefined> {
  if (!config?.enabled) return undefined;
  const provider = config.provider?.name?.toLowerCase() ?? 'opentelemetry';
  if (!SUPPORTED.includes(provider)) {
    throw new FrameworkError(
      'SPROUT_ERR_FRAMEWORK_TRACING_PROVIDER',
      `tracing provider "${config.provider?.name}" is not supported; use "opentelemetry" (OTLP/HTTP), which SkyWalking, Jaeger and the OpenTelemetry Collector all accept`,
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
  let endpoint = config.provider?.exporter?.endpoint ?? config.provider?.oapServer;
  if (endpoint && !/^https?:\/\//.test(endpoint)) endpoint = `http://${endpoint}`;
  if (endpoint && !/\/v1\/traces\/?$/.test(endpoint)) endpoint = `${endpoint.replace(/\/$/, '')}/v1/traces`;
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
