import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
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

  it('refuses an unsupported tracing provider with a clear error', async () => {
    await expect(
      start({
        source: fixture('of-esm'),
        target: 'tryKnative',
        signatureType: 'openfunction',
        context: {
          name: 'x',
          version: 'v1',
          runtime: 'knative',
          pluginsTracing: { enabled: true, provider: { name: 'skywalking', oapServer: 'x:11800' } },
        },
      }),
    ).rejects.toMatchObject({ code: 'SPROUT_ERR_FRAMEWORK_TRACING_PROVIDER' });
  });
});
