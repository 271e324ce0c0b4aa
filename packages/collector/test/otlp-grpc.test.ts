import { randomBytes, randomInt } from 'node:crypto';
import { connect as connectH2 } from 'node:http2';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { closeServer, listen } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest } from '../src/otlp/proto.js';
import { H2_PREFACE, sniffConnection } from '../src/otlp/sniff.js';
import { splitRandomly } from './fuzz.js';
import { startCapture, waitFor } from './helpers.js';

const resource = resourceFromAttributes({ 'service.name': 'collector-grpc-test' });
const LOGS = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

/** Sends a log through the official exporter of the given kind to `url`. */
async function sendLog(exporter: GrpcLogExporter | ProtoLogExporter, body: Record<string, unknown>) {
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter })] });
  provider.getLogger('grpc-lib', '1.0').emit({ body, attributes: { k: 'v' } });
  await provider.forceFlush();
  await provider.shutdown();
}

/** A unary call with grpc-js to `method`; resolves with the status code (0 = OK). */
function call(target: string, method: string, payload: Buffer, options: grpc.ClientOptions = {}) {
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), options);
  return new Promise<{ code: number; details: string }>((resolve) =>
    client.makeUnaryRequest(
      method,
      (b: Buffer) => b,
      (b: Buffer) => b,
      payload,
      (err) => {
        client.close();
        resolve({ code: err?.code ?? 0, details: err?.details ?? '' });
      },
    ),
  );
}

const logRequest = (msg: string, n = 1) =>
  Buffer.from(
    encodeRequest('logs', {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'raw' } }] },
          scopeLogs: [
            {
              logRecords: Array.from({ length: n }, () => ({
                timeUnixNano: '1700000000000000000',
                body: { stringValue: msg },
              })),
            },
          ],
        },
      ],
    }),
  );

/**
 * A TCP proxy to `port` that forwards what the client sends in pieces chosen by `split` (one byte at
 * a time for a slowloris), each piece on its own event-loop turn; answers flow back untouched.
 */
async function slowProxy(port: number, split: (b: Buffer) => Buffer[]) {
  const server = createServer((down) => {
    const up = connect(port, '127.0.0.1');
    up.setNoDelay(true);
    let queue: Promise<void> = Promise.resolve();
    down.on('data', (d: Buffer) => {
      down.pause();
      queue = queue.then(async () => {
        for (const piece of split(d)) {
          if (up.destroyed) return;
          if (piece.length) up.write(piece);
          await new Promise((r) => setImmediate(r));
        }
        down.resume();
      });
    });
    down.on('end', () => void queue.then(() => up.end()));
    up.pipe(down);
    up.on('error', () => down.destroy());
    down.on('error', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  return { port: await listen(server), close: () => closeServer(server), server };
}

/** Writes `bytes` on a fresh connection and resolves with what came back once the server closed it. */
function rawExchange(port: number, bytes: Buffer[], endAfter = false): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      for (const b of bytes) s.write(b);
      if (endAfter) s.end();
    });
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('error', () => undefined);
    s.on('close', () => resolve(Buffer.concat(got)));
  });
}

const rejected = async (c: { metrics: { metrics(): Promise<string> } }, reason: string) => {
  const m = (await c.metrics.metrics()).match(
    new RegExp(`collector_input_rejected_total\\{input="opentelemetry\\.0",reason="${reason}"\\} (\\d+)`),
  );
  return m ? Number(m[1]) : 0;
};

describe('opentelemetry input: OTLP/gRPC and OTLP/HTTP on one port', () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  let target: string;
  const got = () => h.got.get('stdout.0') ?? [];
  beforeAll(async () => {
    h = await startCapture(`
service: { flush: 0.02 }
pipeline:
  inputs:
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, buffer_max_size: 64K }
  outputs:
    - { name: stdout, match: '*' }
`);
    target = `127.0.0.1:${h.port()}`;
  });
  afterAll(() => h.c.close());

  it('takes logs, metrics and traces from the official gRPC exporters and logs from the HTTP exporter on the same port', async () => {
    const url = `http://${target}`;
    await sendLog(new GrpcLogExporter({ url }), { via: 'grpc' });
    await sendLog(new ProtoLogExporter({ url: `${url}/v1/logs` }), { via: 'http' });
    const traces = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(new GrpcTraceExporter({ url }))],
    });
    traces.getTracer('grpc-lib').startSpan('grpc-span').end();
    await traces.shutdown();
    const reader = new PeriodicExportingMetricReader({
      exporter: new GrpcMetricExporter({ url }),
      exportIntervalMillis: 60_000,
    });
    const meters = new MeterProvider({ resource, readers: [reader] });
    meters.getMeter('grpc-meter').createCounter('grpc_requests_total').add(7, { route: '/g' });
    await meters.forceFlush();
    await meters.shutdown();

    const viaGrpc = await waitFor(() => got().find((r) => r.body.via === 'grpc'));
    expect(viaGrpc.tag).toBe('v1_logs');
    expect(viaGrpc.meta).toMatchObject({
      otlp: {
        resource: { 'service.name': 'collector-grpc-test' },
        scope: { name: 'grpc-lib', version: '1.0' },
        attributes: { k: 'v' },
      },
    });
    expect(got().find((r) => r.body.via === 'http')?.tag).toBe('v1_logs');
    const span = await waitFor(() => got().find((r) => r.tag === 'v1_traces'));
    expect(span.body.name).toBe('grpc-span');
    expect(span.kind).toBe('trace');
    const metric = await waitFor(() => got().find((r) => r.body.name === 'grpc_requests_total'));
    expect(metric).toMatchObject({
      tag: 'v1_metrics',
      kind: 'metric',
      body: { type: 'counter', value: 7, labels: { route: '/g' } },
    });
  });

  it('answers gRPC statuses: INVALID_ARGUMENT, UNIMPLEMENTED, RESOURCE_EXHAUSTED; gzip and deflate messages accepted', async () => {
    const before = await rejected(h.c, 'decode');
    expect((await call(target, LOGS, Buffer.from([0x0a, 0xff, 0xff]))).code).toBe(
      grpc.status.INVALID_ARGUMENT,
    );
    expect(await rejected(h.c, 'decode')).toBe(before + 1);
    expect(
      (await call(target, '/opentelemetry.proto.collector.logs.v1.LogsService/Nope', logRequest('x'))).code,
    ).toBe(grpc.status.UNIMPLEMENTED);
    const big = await call(target, LOGS, logRequest('y'.repeat(1000), 100));
    expect(big.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(await rejected(h.c, 'too_large')).toBeGreaterThanOrEqual(1);
    // grpc-js compression: 1 = deflate, 2 = gzip.
    for (const [alg, name] of [
      [1, 'deflate'],
      [2, 'gzip'],
    ] as const) {
      const r = await call(target, LOGS, logRequest(`compressed ${name}`), {
        'grpc.default_compression_algorithm': alg,
      });
      expect(r.code).toBe(0);
      await waitFor(() => got().find((x) => x.body.log === `compressed ${name}`));
    }
  });

  it('refuses a compressed message that expands past buffer_max_size', async () => {
    // Hand-made request: gzip bomb (1 MB of zeros → ~1 KB) in one gRPC frame, over raw HTTP/2.
    const zipped = gzipSync(Buffer.alloc(2 ** 20));
    const frame = Buffer.alloc(5 + zipped.length);
    frame[0] = 1;
    frame.writeUInt32BE(zipped.length, 1);
    zipped.copy(frame, 5);
    const session = connectH2(`http://${target}`);
    const status = await new Promise<string | undefined>((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': LOGS,
        'content-type': 'application/grpc',
        'grpc-encoding': 'gzip',
        te: 'trailers',
      });
      let s: string | undefined;
      req.on('response', (hd) => (s = hd['grpc-status'] as string | undefined));
      req.on('trailers', (t) => (s ??= t['grpc-status'] as string | undefined));
      req.on('close', () => resolve(s));
      req.on('error', reject);
      req.resume();
      req.end(frame);
    });
    session.close();
    expect(status).toBe(String(grpc.status.RESOURCE_EXHAUSTED));
  });

  it('serves a gRPC exporter and an HTTP client whose bytes arrive one at a time (slowloris) or split at random points', async () => {
    const oneByte = await slowProxy(h.port(), (b) => [...b].map((x) => Buffer.from([x])));
    await sendLog(new GrpcLogExporter({ url: `http://127.0.0.1:${oneByte.port}` }), { slow: 'grpc' });
    const res = await fetch(`http://127.0.0.1:${oneByte.port}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'slow http' } }] }] }],
      }),
    });
    expect(res.status).toBe(201);
    await oneByte.close();
    await waitFor(() => got().find((r) => r.body.slow === 'grpc'));
    await waitFor(() => got().find((r) => r.body.log === 'slow http'));

    const random = await slowProxy(h.port(), (b) => splitRandomly(b, 12));
    for (let i = 0; i < 8; i++) {
      expect((await call(`127.0.0.1:${random.port}`, LOGS, logRequest(`split ${i}`))).code).toBe(0);
      const r = await fetch(`http://127.0.0.1:${random.port}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: logRequest(`split http ${i}`),
      });
      expect(r.status).toBe(201);
    }
    await random.close();
    for (let i = 0; i < 8; i++) {
      await waitFor(() => got().find((r) => r.body.log === `split ${i}`));
      await waitFor(() => got().find((r) => r.body.log === `split http ${i}`));
    }
  });

  it('fuzz: garbage first bytes, partial prefaces and a preface followed by garbage are closed and counted, never crash or hang the port', async () => {
    const malformed = await rejected(h.c, 'malformed');
    const truncated = await rejected(h.c, 'truncated');
    const protocol = await rejected(h.c, 'protocol');
    let garbage = 0;
    const end = Date.now() + 1500;
    while (Date.now() < end || garbage < 30) {
      // Random bytes whose first byte cannot start a request line (no method letter, no 'P', no
      // whitespace the parser would skip): the HTTP/1 parser refuses them at once.
      const junk = randomBytes(randomInt(1, 200));
      const firsts = [...Array(0x41).keys()].filter((c) => ![0x09, 0x0a, 0x0d, 0x20].includes(c));
      junk[0] = firsts[randomInt(0, firsts.length)]!;
      const back = await rawExchange(h.port(), splitRandomly(junk, 4), true);
      expect(back.toString('latin1')).toMatch(/^(HTTP\/1\.1 400 |$)/);
      garbage++;
    }
    await waitFor(async () => (await rejected(h.c, 'malformed')) >= malformed + garbage);

    // A partial preface, then the client goes away.
    const partials = 20;
    for (let i = 0; i < partials; i++) {
      const cut = randomInt(1, H2_PREFACE.length);
      await rawExchange(h.port(), splitRandomly(H2_PREFACE.subarray(0, cut), 3), true);
    }
    await waitFor(async () => (await rejected(h.c, 'truncated')) >= truncated + partials);

    // A partial preface, then other bytes: it is not HTTP/2, so the HTTP/1 parser gets and refuses it.
    const diverted = await rawExchange(h.port(), [
      H2_PREFACE.subarray(0, 10),
      Buffer.from('garbage\r\n\r\n'),
    ]);
    expect(diverted.toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);

    // The full preface, then garbage instead of a SETTINGS frame: the HTTP/2 session fails.
    for (let i = 0; i < 10; i++) {
      // Whatever nghttp2 answered (SETTINGS, GOAWAY), the connection closes.
      await rawExchange(h.port(), [H2_PREFACE, randomBytes(randomInt(9, 300))], true);
    }
    await waitFor(async () => (await rejected(h.c, 'protocol')) > protocol);

    // The port still serves both protocols.
    expect((await call(target, LOGS, logRequest('after fuzz'))).code).toBe(0);
    const r = await fetch(`http://${target}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"after fuzz http"}}]}]}]}',
    });
    expect(r.status).toBe(201);
    await waitFor(() => got().find((x) => x.body.log === 'after fuzz http'));
  });
});

describe('opentelemetry input: grpc_port and http2 off', () => {
  it('serves gRPC on grpc_port too; with http2: off the HTTP port refuses HTTP/2 and still serves HTTP/1.1', async () => {
    const h = await startCapture(
      `service: { flush: 0.02 }\npipeline:\n  inputs:\n    - { name: opentelemetry, listen: 127.0.0.1, port: 0, http2: off, grpc_port: 0 }\n  outputs:\n    - { name: stdout, match: '*' }\n`,
    );
    try {
      const grpcPort = h.c.inputs()[0]!.address!.grpcPort!;
      expect(grpcPort).toBeGreaterThan(0);
      expect(grpcPort).not.toBe(h.port());
      await sendLog(new GrpcLogExporter({ url: `http://127.0.0.1:${grpcPort}` }), { via: 'grpc_port' });
      await waitFor(() => (h.got.get('stdout.0') ?? []).find((r) => r.body.via === 'grpc_port'));
      const onHttpPort = await call(`127.0.0.1:${h.port()}`, LOGS, logRequest('refused'), {
        'grpc.initial_reconnect_backoff_ms': 50,
      });
      expect(onHttpPort.code).not.toBe(0);
      await sendLog(new ProtoLogExporter({ url: `http://127.0.0.1:${h.port()}/v1/logs` }), { via: 'http1' });
      await waitFor(() => (h.got.get('stdout.0') ?? []).find((r) => r.body.via === 'http1'));
    } finally {
      await h.c.close();
    }
  });
});

describe('sniffConnection', () => {
  let server: Server;
  let port: number;
  const seen: Array<{ kind: string; detail?: Record<string, unknown> }> = [];
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    server = createServer((s) => {
      sockets.add(s);
      sniffConnection(s, {
        timeoutMs: 200,
        http1: (sock) => {
          seen.push({ kind: 'http1' });
          sock.end('one');
        },
        http2: (stream) => {
          seen.push({ kind: 'http2' });
          stream.end('two');
        },
        reject: (reason, detail) => seen.push({ kind: reason, detail }),
      });
    });
    port = await listen(server);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await closeServer(server);
  });

  it('decides at the first differing byte or the last preface byte, whatever the split', async () => {
    for (let i = 0; i < 40; i++) {
      seen.length = 0;
      const h2c = Buffer.concat([H2_PREFACE, randomBytes(randomInt(0, 20))]);
      expect((await rawExchange(port, splitRandomly(h2c, 10))).toString()).toBe('two');
      const h1 = Buffer.from('POST /v1/logs HTTP/1.1\r\n');
      expect((await rawExchange(port, splitRandomly(h1, 10))).toString()).toBe('one');
      // Diverges from the preface somewhere inside it.
      const at = randomInt(0, H2_PREFACE.length);
      const near = Buffer.from(H2_PREFACE);
      near[at] = near[at]! ^ 0x20;
      expect((await rawExchange(port, splitRandomly(near, 10))).toString()).toBe('one');
      expect(seen.map((s) => s.kind)).toEqual(['http2', 'http1', 'http1']);
    }
  });

  it('closes and counts a connection stuck inside the preface (slowloris), not a silent one', async () => {
    seen.length = 0;
    const stuck = connect(port, '127.0.0.1', () => stuck.write(H2_PREFACE.subarray(0, 5)));
    const silent = connect(port, '127.0.0.1');
    await Promise.all([stuck, silent].map((s) => new Promise((r) => s.on('close', r))));
    expect(seen).toEqual([{ kind: 'truncated', detail: expect.objectContaining({ bytes: 5 }) }]);
  });
});
