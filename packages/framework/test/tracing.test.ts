import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import { otlpTracesUrl } from '../src/tracing.js';
import { fixture, json, start } from './helpers.js';

describe('tracing with OpenTelemetry', () => {
  it('continues the caller trace (W3C traceparent), exports the span over OTLP/HTTP and propagates to outputs', async () => {
    const exported: unknown[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        exported.push({
          url: req.url,
          type: req.headers['content-type'],
          body: Buffer.concat(chunks).toString(),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const outgoing: Record<string, unknown>[] = [];
    const sink = createServer((req, res) => {
      outgoing.push(req.headers);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await Promise.all(
      [collector, sink].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))),
    );
    const port = (s: typeof collector) => (s.address() as AddressInfo).port;
    const s = await start({
      source: fixture('of-esm'),
      target: 'tryKnative',
      signatureType: 'openfunction',
      context: {
        name: 'traced',
        version: 'v1',
        runtime: 'knative',
        outputs: { hook: { componentName: 'h', componentType: 'bindings.http' } },
        pluginsTracing: {
          enabled: true,
          provider: { name: 'opentelemetry', oapServer: `127.0.0.1:${port(collector)}` },
          tags: { func: 'traced-fn', team: 'sprout' },
        },
      },
      components: [{ name: 'h', type: 'bindings.http', metadata: { url: `http://127.0.0.1:${port(sink)}` } }],
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    try {
      const r = await fetch(s.url, {
        method: 'POST',
        headers: { ...json, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
        body: JSON.stringify({ send: 'x' }),
      });
      expect(r.status).toBe(200);
    } finally {
      await s.close(); // flushes the span processor
      collector.close();
      sink.close();
    }
    expect(exported.length).toBeGreaterThan(0);
    const first = exported[0] as { url: string; body: string };
    expect(first.url).toBe('/v1/traces');
    // The exporter's wire format is protobuf or JSON depending on the SDK version; the trace id is
    // in it either way (hex in JSON, raw bytes in protobuf).
    const raw = Buffer.from(first.body, 'latin1');
    expect(first.body.includes(traceId) || raw.includes(Buffer.from(traceId, 'hex'))).toBe(true);
    expect(first.body).toContain('traced-fn');
    expect(String(outgoing[0]?.traceparent)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  it("takes OpenFunction's default provider, skywalking: spans go to the OAP over OTLP/HTTP", async () => {
    const urls: string[] = [];
    const bodies: Buffer[] = [];
    const oap = createServer((req, res) => {
      urls.push(String(req.url));
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => oap.listen(0, '127.0.0.1', r));
    const s = await start({
      source: fixture('of-esm'),
      target: 'tryKnative',
      signatureType: 'openfunction',
      context: {
        name: 'sw',
        version: 'v1',
        runtime: 'knative',
        pluginsTracing: {
          enabled: true,
          provider: { name: 'skywalking', oapServer: `127.0.0.1:${(oap.address() as AddressInfo).port}` },
        },
      },
    });
    try {
      expect((await fetch(s.url, { method: 'POST', headers: json, body: '{}' })).status).toBe(200);
    } finally {
      await s.close();
      oap.close();
    }
    expect(urls).toContain('/v1/traces');
    // the service is the function's name, as SkyWalking lists it
    expect(Buffer.concat(bodies).includes(Buffer.from('sw'))).toBe(true);
    expect(Buffer.concat(bodies).includes(Buffer.from('service.name'))).toBe(true);
  });

  it("maps a SkyWalking agent address (port 11800) to the OAP's OTLP/HTTP port 12800", () => {
    const sw = (oapServer: string) => ({ enabled: true, provider: { name: 'skywalking', oapServer } });
    expect(otlpTracesUrl(sw('skywalking-opa:11800'))).toBe('http://skywalking-opa:12800/v1/traces');
    expect(otlpTracesUrl(sw('oap'))).toBe('http://oap:12800/v1/traces');
    expect(otlpTracesUrl(sw('https://oap.example:443'))).toBe('https://oap.example/v1/traces');
    expect(otlpTracesUrl(sw('oap:4318'))).toBe('http://oap:4318/v1/traces');
    expect(
      otlpTracesUrl({
        enabled: true,
        provider: { name: 'skywalking', oapServer: 'oap:11800', exporter: { endpoint: 'collector:4318' } },
      }),
    ).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl({ enabled: true, provider: { name: 'opentelemetry', oapServer: 'c:4318' } })).toBe(
      'http://c:4318/v1/traces',
    );
    expect(otlpTracesUrl({ enabled: true })).toBeUndefined();
  });

  it('never stops a function from starting: an unknown provider is a coded warning and the function runs untraced', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      format: 'json',
      destination: { write: (l: string) => (lines.push(l), true) } as never,
    });
    const s = await start(
      {
        source: fixture('of-esm'),
        target: 'tryKnative',
        signatureType: 'openfunction',
        context: {
          name: 'x',
          version: 'v1',
          runtime: 'knative',
          pluginsTracing: { enabled: true, provider: { name: 'zipkin', oapServer: 'x:9411' } },
        },
      },
      { logger },
    );
    try {
      expect((await fetch(s.url, { method: 'POST', headers: json, body: '{}' })).status).toBe(200);
      expect(s.functions[0]!.tracing).toBeUndefined();
    } finally {
      await s.close();
    }
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'tracing is off for this function');
    expect(warning).toMatchObject({ level: 'warn', code: 'SPROUT_ERR_FRAMEWORK_TRACING_PROVIDER' });
    expect(warning.reason).toContain('zipkin');
  });
});
