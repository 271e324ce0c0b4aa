import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as OTLPLogExporterJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig } from '../src/index.js';
import { quiet, startCapture, waitFor } from './helpers.js';

const resource = resourceFromAttributes({ 'service.name': 'collector-otel-test' });

// Real peers: the official OpenTelemetry JS SDK exporters (OTLP/HTTP protobuf and JSON).
describe('opentelemetry input with the OpenTelemetry JS exporters', () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  let url: string;
  beforeAll(async () => {
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, buffer_max_size: 64K }
  outputs:
    - { name: stdout, match: 'v1_*' }
`);
    url = `http://127.0.0.1:${h.port()}`;
  });
  afterAll(() => h.c.close());
  const of = (tag: string) => (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag);

  it.each([
    ['protobuf', () => new OTLPLogExporter({ url: `${url}/v1/logs` })],
    ['json', () => new OTLPLogExporterJson({ url: `${url}/v1/logs` })],
  ])('logs over %s', async (encoding, make) => {
    const provider = new LoggerProvider({
      resource,
      processors: [new SimpleLogRecordProcessor({ exporter: make() })],
    });
    provider.getLogger('test-lib', '2.0').emit({
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: { msg: `hello ${encoding}`, n: 3 },
      attributes: { 'user.id': 'u1' },
    });
    await provider.forceFlush();
    await provider.shutdown();
    const r = await waitFor(() => of('v1_logs').find((x) => x.body.msg === `hello ${encoding}`));
    expect(r.body).toEqual({ msg: `hello ${encoding}`, n: 3 });
    expect(r.meta).toMatchObject({
      otlp: {
        resource: { 'service.name': 'collector-otel-test' },
        scope: { name: 'test-lib', version: '2.0' },
        attributes: { 'user.id': 'u1' },
        severityText: 'WARN',
        severityNumber: 13,
      },
    });
  });

  it('traces over protobuf: ids, parent, attributes, events, status', async () => {
    const provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }))],
    });
    const tracer = provider.getTracer('tracer-lib');
    const parent = tracer.startSpan('parent-op');
    parent.setAttribute('k', 'v');
    parent.addEvent('started', { step: 1 });
    parent.setStatus({ code: 2, message: 'failed' });
    parent.end();
    await provider.forceFlush();
    await provider.shutdown();
    const r = await waitFor(() => of('v1_traces').find((x) => x.body.name === 'parent-op'));
    expect(r.kind).toBe('trace');
    expect(r.body).toMatchObject({
      trace_id: parent.spanContext().traceId,
      span_id: parent.spanContext().spanId,
      attributes: { k: 'v' },
      status: { code: 2, message: 'failed' },
      events: [{ name: 'started', attributes: { step: 1 } }],
    });
  });

  it('metrics over protobuf: counter and histogram data points', async () => {
    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${url}/v1/metrics` }),
      exportIntervalMillis: 60_000,
    });
    const provider = new MeterProvider({ resource, readers: [reader] });
    const meter = provider.getMeter('meter-lib');
    meter.createCounter('requests_total').add(5, { route: '/a' });
    meter.createHistogram('latency_ms').record(12, { route: '/a' });
    await provider.forceFlush();
    await provider.shutdown();
    const c = await waitFor(() => of('v1_metrics').find((x) => x.body.name === 'requests_total'));
    expect(c.body).toMatchObject({ type: 'counter', value: 5, labels: { route: '/a' }, monotonic: true });
    const hist = of('v1_metrics').find((x) => x.body.name === 'latency_ms')!;
    expect(hist.body).toMatchObject({ type: 'histogram', count: 1, sum: 12, labels: { route: '/a' } });
  });

  it('refuses bodies it cannot read with the right status and counts them', async () => {
    const post = (path: string, type: string, body: string | Buffer) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('/v1/logs', 'application/x-protobuf', Buffer.from([0x0a, 0xff, 0xff]))).status).toBe(
      400,
    );
    expect((await post('/v1/logs', 'application/json', '{nope')).status).toBe(400);
    expect((await post('/v1/logs', 'text/plain', 'x')).status).toBe(415);
    expect((await post('/v1/other', 'application/json', '{}')).status).toBe(404);
    expect(
      (await post('/v1/logs', 'application/json', JSON.stringify({ x: 'y'.repeat(70_000) }))).status,
    ).toBe(413);
    const m = await h.c.metrics.metrics();
    expect(m).toMatch(/input="opentelemetry.0",reason="decode"\} 2/);
    expect(m).toMatch(/input="opentelemetry.0",reason="too_large"\} 1/);
  });
});

describe('opentelemetry output', () => {
  it('forwards logs, metrics and traces to another OTLP endpoint with their resource intact', async () => {
    const far = await startCapture(
      `service: { flush: 0.02 }\npipeline:\n  inputs:\n    - { name: opentelemetry, listen: 127.0.0.1, port: 0 }\n  outputs:\n    - { name: stdout, match: '*' }\n`,
    );
    const near = createCollector(
      parseConfig(`
service: { flush: 0.02 }
pipeline:
  inputs:
    - { name: opentelemetry, listen: 127.0.0.1, port: 0 }
  outputs:
    - { name: opentelemetry, match: '*', host: 127.0.0.1, port: ${far.port()} }
`),
      { logger: quiet },
    );
    await near.start();
    const url = `http://127.0.0.1:${near.inputs()[0]!.address!.port}`;
    const logs = new LoggerProvider({
      resource,
      processors: [
        new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${url}/v1/logs` }) }),
      ],
    });
    logs.getLogger('fwd').emit({ body: 'forwarded line', attributes: { a: 1 } });
    await logs.shutdown();
    const traces = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }))],
    });
    traces.getTracer('fwd').startSpan('fwd-span').end();
    await traces.shutdown();
    await near.push({ tag: 'plain', body: { from: 'push' } });
    await near.flush();
    const got = () => far.got.get('stdout.0') ?? [];
    await waitFor(() => got().length === 3);
    const line = got().find((r) => r.body.log === 'forwarded line')!;
    expect(line.meta).toMatchObject({
      otlp: { resource: { 'service.name': 'collector-otel-test' }, attributes: { a: 1 } },
    });
    expect(got().find((r) => r.kind === 'trace')!.body.name).toBe('fwd-span');
    expect(got().find((r) => r.body.from === 'push')).toBeDefined();
    await near.close();
    await far.c.close();
  });
});
