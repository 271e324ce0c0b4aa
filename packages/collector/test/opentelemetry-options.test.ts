import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curlPostJson, inputRefusal, run, startCapture, waitFor } from './helpers.js';
import { makeTestCerts, type TestCerts } from './tls-certs.js';

/** An OTLP/JSON logs request with the given log bodies (AnyValue JSON). */
const logsJson = (...bodies: unknown[]) =>
  JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otel-options' } }] },
        scopeLogs: [{ logRecords: bodies.map((body) => ({ timeUnixNano: '1700000000000000000', body })) }],
      },
    ],
  });

// Real peers: curl over HTTPS and the official OTLP/gRPC log exporter over TLS.
describe("opentelemetry input: TLS and fluent-bit's logs_body_key, logs_metadata_key, tag and routing keys", () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  let certs: TestCerts;
  beforeAll(async () => {
    certs = await makeTestCerts();
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, tag: oo.tls, tls: on, tls.crt_file: ${certs.serverCrt}, tls.key_file: ${certs.serverKey} }
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, tag: oo.body, logs_body_key: message, logs_metadata_key: otel_meta }
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, tag: oo.dropped, routable: off }
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, http_server.buffer_max_size: 1K }
    - name: opentelemetry
      listen: 127.0.0.1
      port: 0
      net.backlog: 11
      http_server.max_connections: 1
      # fluent-bit's defaults written out: accepted
      buffer_chunk_size: 512K
      encode_profiles_as_log: true
      profiles_support: false
      thread.ring_buffer.capacity: 1024
      thread.ring_buffer.window: 5
      threaded: false
      routable: true
      net.keepalive: true
      net.share_port: false
  outputs:
    - { name: stdout, match: '*' }
`);
  }, 60_000);
  afterAll(async () => {
    await h?.c.close();
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });
  const records = (tag: string) => (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag);

  it('serves OTLP/HTTP over TLS, and OTLP/gRPC over TLS on the same port (h2 by ALPN)', async () => {
    const url = `https://127.0.0.1:${h.port(0)}`;
    // OTLP/HTTP over HTTPS on either HTTP version (curl picks h2 by ALPN unless told otherwise).
    const https = ['--cacert', certs.ca, '--http1.1'];
    expect(await curlPostJson(`${url}/v1/logs`, logsJson({ stringValue: 'over https' }), https)).toBe(201);
    const h2 = ['--cacert', certs.ca, '--http2'];
    expect(await curlPostJson(`${url}/v1/logs`, logsJson({ stringValue: 'over h2' }), h2)).toBe(201);
    const proto = new ProtoLogExporter({
      url: `${url}/v1/logs`,
      httpAgentOptions: { ca: readFileSync(certs.ca) },
    });
    const viaProto = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: proto })] });
    viaProto.getLogger('tls').emit({ body: { via: 'proto-https' } });
    await viaProto.forceFlush();
    await viaProto.shutdown();
    // Plain HTTP to a TLS port gets nothing in.
    const plain = await curlPostJson(
      `http://127.0.0.1:${h.port(0)}/v1/logs`,
      logsJson({ stringValue: 'plain' }),
    ).catch(() => 0);
    expect(plain).not.toBe(201);
    const exporter = new GrpcLogExporter({
      url,
      credentials: grpc.credentials.createSsl(readFileSync(certs.ca)),
    });
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'otel-tls' }),
      processors: [new SimpleLogRecordProcessor({ exporter })],
    });
    provider.getLogger('tls').emit({ body: { via: 'grpc-tls' } });
    await provider.forceFlush();
    await provider.shutdown();
    await waitFor(() => records('oo.tls').length === 4);
    expect(records('oo.tls').map((r) => r.body)).toEqual([
      { log: 'over https' },
      { log: 'over h2' },
      { via: 'proto-https' },
      { via: 'grpc-tls' },
    ]);
  });

  it('logs_body_key puts every body under the key; logs_metadata_key names the metadata; tag wins over the URI', async () => {
    const kv = { kvlistValue: { values: [{ key: 'a', value: { intValue: '1' } }] } };
    expect(
      await curlPostJson(`http://127.0.0.1:${h.port(1)}/v1/logs`, logsJson({ stringValue: 'text' }, kv)),
    ).toBe(201);
    await waitFor(() => records('oo.body').length === 2);
    const got = records('oo.body');
    expect(got.map((r) => r.body)).toEqual([{ message: 'text' }, { message: { a: 1 } }]);
    expect(got[0]!.meta).toEqual({
      otel_meta: expect.objectContaining({ resource: { 'service.name': 'otel-options' } }),
    });
    expect(got[0]!.meta?.otlp).toBeUndefined();
  });

  it('routable: off answers success and routes nothing', async () => {
    expect(
      await curlPostJson(`http://127.0.0.1:${h.port(2)}/v1/logs`, logsJson({ stringValue: 'gone' })),
    ).toBe(201);
    // A record sent after it through another input arrives, the dropped one never does.
    expect(
      await curlPostJson(`http://127.0.0.1:${h.port(1)}/v1/logs`, logsJson({ stringValue: 'after' })),
    ).toBe(201);
    await waitFor(() => records('oo.body').some((r) => r.body.message === 'after'));
    expect(records('oo.dropped')).toEqual([]);
    expect(records('v1_logs')).toEqual([]);
  });

  it('net.backlog and http_server.max_connections reach the listening socket', async () => {
    const { stdout } = await run('ss', ['-ltnH', `sport = :${h.port(4)}`]);
    expect(stdout.trim().split(/\s+/)[2]).toBe('11');
    const first = connect(h.port(4), '127.0.0.1');
    await new Promise((r) => first.once('connect', r));
    const second = connect(h.port(4), '127.0.0.1');
    second.on('error', () => undefined);
    await new Promise((r) => second.once('close', r)); // over the cap: closed by the server
    expect(first.destroyed).toBe(false);
    first.destroy();
  });

  it('OTLP/HTTP over h2c with prior knowledge: answers and refusals as over HTTP/1.1', async () => {
    const h2c = ['--http2-prior-knowledge'];
    const base = `http://127.0.0.1:${h.port(3)}`;
    expect(await curlPostJson(`${base}/v1/logs`, logsJson({ stringValue: 'h2c' }), h2c)).toBe(201);
    expect(await curlPostJson(`${base}/v1/nope`, logsJson({ stringValue: 'x' }), h2c)).toBe(404);
    expect(await curlPostJson(`${base}/v1/logs`, '{"resourceLogs": nope', h2c)).toBe(400);
    const big = logsJson({ stringValue: 'x'.repeat(4096) });
    expect(await curlPostJson(`${base}/v1/logs`, big, h2c)).toBe(413);
    await waitFor(() => records('v1_logs').some((r) => r.body.log === 'h2c'));
  });

  it('http_server.buffer_max_size limits the body (413)', async () => {
    const big = logsJson({ stringValue: 'x'.repeat(4096) });
    expect(await curlPostJson(`http://127.0.0.1:${h.port(3)}/v1/logs`, big)).toBe(413);
    expect(await curlPostJson(`http://127.0.0.1:${h.port(3)}/v1/logs`, logsJson({ stringValue: 'ok' }))).toBe(
      201,
    );
    await waitFor(() => records('v1_logs').some((r) => r.body.log === 'ok'));
  });
});

describe('opentelemetry input: keys that cannot be honoured are refused, naming why', () => {
  it.each([
    ['profiles_support: on', /does not serve OTLP profiles/],
    ['host: collector.local', /use for it/],
    ['http_server.workers: 2', /http_server.workers above 1/],
    ['storage.pause_on_chunks_overlimit: on', /not implemented/],
    ['log_suppress_interval: 5', /not implemented/],
    ['storage.type: memrb', /storage.type/],
    ['net.dns.resolver: ASYNC', /applies to outputs/],
    ['oauth2.validate: true', /OAuth 2.0/],
  ])('%s', async (key, message) => {
    const e = await inputRefusal(`{ name: opentelemetry, listen: 127.0.0.1, port: 0, ${key} }`);
    expect(e.code).toBe('SPROUT_ERR_COLLECTOR_CONFIG_INVALID');
    expect(e.message).toMatch(message);
  });

  it('grpc_port with tls is refused: the TLS port serves gRPC itself', async () => {
    const certs = await makeTestCerts();
    try {
      const e = await inputRefusal(
        `{ name: opentelemetry, listen: 127.0.0.1, port: 0, grpc_port: 0, tls: on, tls.crt_file: ${certs.serverCrt}, tls.key_file: ${certs.serverKey} }`,
      );
      expect(e.code).toBe('SPROUT_ERR_COLLECTOR_CONFIG_INVALID');
      expect(e.message).toMatch(/grpc_port serves gRPC in cleartext/);
    } finally {
      rmSync(certs.dir, { recursive: true, force: true });
    }
  });
});
