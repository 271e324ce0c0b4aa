import { randomBytes } from 'node:crypto';
import { connect as connectH2, constants } from 'node:http2';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { fuzzFindings, fuzzHttpServer, seededRng } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest } from '../src/otlp/proto.js';
import { H2_PREFACE } from '../src/otlp/sniff.js';
import { run, startProcess, type CollectorProcess } from './helpers.js';

// Every HTTP server of the collector (the http input, the opentelemetry input over HTTP/1.1 and
// HTTP/2 on its shared port and grpc_port, the monitoring server) is fed hostile requests over raw
// sockets. The collector runs in a child process: a crash there is seen as the process gone. Each
// fuzz run is time-boxed and seeded (FUZZ_SEED=<n> replays one); the seed is in every message.
const rng = seededRng();
const seed = `FUZZ_SEED=${rng.seed}`;
const FUZZ_MS = 1500;
const MIN_REQUESTS = 60;
const LOGS = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

const logRequest = (msg: string) =>
  Buffer.from(
    encodeRequest('logs', {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1', body: { stringValue: msg } }] }] }],
    }),
  );
const grpcFrame = (msg: Buffer, flag = 0) => {
  const f = Buffer.alloc(5 + msg.length);
  f[0] = flag;
  f.writeUInt32BE(msg.length, 1);
  msg.copy(f, 5);
  return f;
};

/** A unary gRPC call with grpc-js; resolves with the status code (0 = OK). */
function grpcCall(port: number, payload: Buffer): Promise<number> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      LOGS,
      (b: Buffer) => b,
      (b: Buffer) => b,
      payload,
      (err) => {
        client.close();
        resolve(err?.code ?? 0);
      },
    ),
  );
}

/** Hostile HTTP/1 requests at `port` (see fuzzHttpServer), sorted: refusals must carry a collector code. */
async function fuzzHttp1(port: number, paths: string[], good: Buffer) {
  const r = await fuzzHttpServer(port, { paths, good }, { rng, ms: FUZZ_MS, min: MIN_REQUESTS });
  return fuzzFindings(r, /x-sprout-error-code: sprout_err_collector_/);
}

const post = (port: number, path: string, type: string, body: string | Buffer) =>
  fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': type }, body });

describe('HTTP servers under hostile requests', () => {
  let p: CollectorProcess;
  let httpPort = 0;
  let otlpPort = 0;
  let grpcPort = 0;
  let monitorPort = 0;
  const metric = async (re: RegExp) => {
    const text = await (await fetch(`http://127.0.0.1:${monitorPort}/metrics`)).text();
    return [...text.matchAll(new RegExp(re, 'g'))].reduce((n, m) => n + Number(m[1]), 0);
  };
  const alive = () => {
    expect(p.alive(), `${seed}: the collector process died:\n${p.stderr().slice(-3000)}`).toBe(true);
    // Every refusal was one the servers meant: nothing reached the catch-all for unexpected errors.
    expect(p.stderr(), `${seed}: an unexpected error while handling a request`).not.toContain(
      '"reason":"internal"',
    );
  };

  beforeAll(async () => {
    p = await startProcess(`
service: { flush: 0.05, http_server: on, http_listen: 127.0.0.1, http_port: 0 }
pipeline:
  inputs:
    - { name: http, listen: 127.0.0.1, port: 0, buffer_max_size: 64K }
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, grpc_port: 0, buffer_max_size: 64K }
  outputs:
    - { name: 'null', match: '*' }
`);
    httpPort = p.inputs[0]!.address.port!;
    otlpPort = p.inputs[1]!.address.port!;
    grpcPort = p.inputs[1]!.address.grpcPort!;
    monitorPort = p.monitor!.port;
  });
  afterAll(async () => {
    expect(await p?.stop()).toBe(0);
  });

  it('a POST to /% (not percent-encoding) is a coded 400 and the collector keeps serving', async () => {
    const { stdout } = await run('curl', [
      '-s',
      '-D',
      '-',
      '-X',
      'POST',
      '-H',
      'content-type: application/json',
      '-d',
      '{}',
      `http://127.0.0.1:${httpPort}/%`,
    ]);
    alive();
    expect(stdout).toMatch(/^HTTP\/1\.1 400 /);
    expect(stdout).toMatch(/x-sprout-error-code: SPROUT_ERR_COLLECTOR_BAD_REQUEST/i);
    expect(JSON.parse(stdout.slice(stdout.indexOf('\r\n\r\n') + 4))).toEqual({
      error: {
        code: 'SPROUT_ERR_COLLECTOR_BAD_REQUEST',
        message: 'the URL path is not valid percent-encoded UTF-8',
      },
    });
    expect((await post(httpPort, '/app', 'application/json', '{"ok":1}')).status).toBe(201);
  });

  it('an HTTP/1.1 request without Host (a fuzz find) is a coded 400 on every server', async () => {
    // A head cut after its request line, then a chunked body whose empty size line ends the head.
    const hostless = 'POST /v1/logs HTTP/1.1\r\n\r\n{"a":1,\r\n0\r\n\r\n';
    for (const port of [httpPort, otlpPort, monitorPort]) {
      const back = await new Promise<string>((resolve) => {
        let text = '';
        const s = connect(port, '127.0.0.1', () => s.write(hostless));
        s.on('data', (c: Buffer) => (text += c.toString('latin1')));
        s.on('close', () => resolve(text));
      });
      expect(back, `port ${port}`).toMatch(
        /^HTTP\/1\.1 400 Bad Request\r\n(?:[^\r\n]+\r\n)*x-sprout-error-code: SPROUT_ERR_COLLECTOR_DECODE\r\n/,
      );
    }
    alive();
  });

  it('http input: fuzzed requests get coded answers; a good request works afterwards', async () => {
    const r = await fuzzHttp1(httpPort, ['/', '/app.web', '/a/b'], Buffer.from('[{"msg":"x"}]'));
    alive();
    expect(r.uncoded, seed).toEqual([]);
    expect(r.serverErrors, `${seed}: server errors`).toEqual([]);
    expect(r.statuses.has(400), seed).toBe(true);
    // Most requests are answered (the rest were left incomplete or reset on purpose).
    expect(r.answeredShare, seed).toBeGreaterThan(0.5);
    expect((await post(httpPort, '/after', 'application/json', '{"ok":1}')).status).toBe(201);
    expect(
      await metric(/collector_input_rejected_total\{input="http\.0",reason="malformed"\} (\d+)/),
    ).toBeGreaterThan(0);
  });

  it('opentelemetry over HTTP/1.1: fuzzed requests get coded answers; a good export works afterwards', async () => {
    const good = logRequest('fuzz');
    const r = await fuzzHttp1(otlpPort, ['/v1/logs', '/v1/metrics', '/v1/traces'], good);
    alive();
    expect(r.uncoded, seed).toEqual([]);
    expect(r.serverErrors, `${seed}: server errors`).toEqual([]);
    expect(r.statuses.has(400), seed).toBe(true);
    expect((await post(otlpPort, '/v1/logs', 'application/x-protobuf', good)).status).toBe(201);
    expect((await post(otlpPort, '/v1/logs', 'application/json', '{"resourceLogs":[]}')).status).toBe(201);
  });

  it('opentelemetry over HTTP/2 (shared port and grpc_port): fuzzed frames and calls; good calls work afterwards', async () => {
    const good = logRequest('grpc');
    const internal: string[] = [];
    const oneCall = (port: number) =>
      new Promise<void>((resolve) => {
        const session = connectH2(`http://127.0.0.1:${port}`);
        session.on('error', () => resolve());
        const timer = setTimeout(() => {
          session.destroy();
          resolve();
        }, 400);
        const path = rng.pick([LOGS, LOGS, '/%', '/x/Export', '/' + 'a'.repeat(rng.int(1, 9000))]);
        let req;
        try {
          req = session.request({
            ':method': rng.pick(['POST', 'POST', 'POST', 'GET', 'PUT']),
            ':path': path,
            'content-type': rng.pick([
              'application/grpc',
              'application/grpc+proto',
              'text/plain',
              'application/grpcx',
            ]),
            'grpc-encoding': rng.pick(['identity', 'gzip', 'deflate', 'br', '']),
            ...(rng.next() < 0.1 ? { 'x-big': 'b'.repeat(rng.int(1000, 60_000)) } : {}),
          });
        } catch {
          clearTimeout(timer);
          session.destroy();
          return resolve();
        }
        req.on('error', () => undefined);
        const finish = () => {
          clearTimeout(timer);
          session.close();
          resolve();
        };
        req.on('trailers', (t) => {
          if (String(t['grpc-message'] ?? '') === 'internal error') internal.push(path);
        });
        req.on('response', (h) => {
          if (String(h['grpc-message'] ?? '') === 'internal error') internal.push(path);
        });
        req.on('close', finish);
        req.resume();
        const body = rng.pick([
          () => grpcFrame(good),
          () => grpcFrame(gzipSync(good), 1),
          () => grpcFrame(rng.bytes(rng.int(0, 300)), 1),
          () => grpcFrame(rng.bytes(rng.int(0, 300))),
          () => grpcFrame(good).subarray(0, rng.int(0, 8)),
          () => Buffer.concat([grpcFrame(good), grpcFrame(good)]),
          () => {
            const f = grpcFrame(good);
            f.writeUInt32BE(0xffffffff, 1);
            return f;
          },
          () => rng.bytes(rng.int(0, 500)),
        ])();
        const how = rng.int(0, 5);
        if (how === 0) {
          req.write(body.subarray(0, body.length >> 1));
          req.close(constants.NGHTTP2_CANCEL);
        } else if (how === 1) req.write(body);
        else req.end(body);
      });
    const rawFrames = (port: number) =>
      new Promise<void>((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          const parts: Buffer[] = [rng.next() < 0.9 ? H2_PREFACE : H2_PREFACE.subarray(0, rng.int(1, 24))];
          for (let i = rng.int(0, 12); i > 0; i--) {
            const payload = rng.bytes(rng.int(0, 64));
            const head = Buffer.alloc(9);
            head.writeUIntBE(rng.next() < 0.9 ? payload.length : rng.int(0, 2 ** 24), 0, 3);
            head[3] = rng.int(0, 12); // frame type (0-9 known, the rest unknown)
            head[4] = rng.int(0, 256); // flags
            head.writeUInt32BE(rng.pick([0, 1, 3, rng.int(0, 2 ** 31)]), 5);
            parts.push(head, payload);
          }
          s.end(Buffer.concat(parts));
        });
        const timer = setTimeout(() => s.destroy(), 300);
        s.on('data', () => undefined);
        s.on('error', () => undefined);
        s.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    let n = 0;
    const end = Date.now() + FUZZ_MS;
    while (n <= 3 || Date.now() < end) {
      await Promise.all([
        oneCall(otlpPort),
        oneCall(grpcPort),
        oneCall(rng.pick([otlpPort, grpcPort])),
        rawFrames(otlpPort),
        rawFrames(grpcPort),
      ]);
      n++;
    }
    alive();
    expect(n).toBeGreaterThan(3);
    expect(internal, `${seed}: calls answered INTERNAL`).toEqual([]);
    expect(await grpcCall(otlpPort, good)).toBe(0);
    expect(await grpcCall(grpcPort, good)).toBe(0);
    expect((await post(otlpPort, '/v1/logs', 'application/x-protobuf', good)).status).toBe(201);
  });

  it('monitoring server: fuzzed requests get coded answers; health and metrics work afterwards', async () => {
    const r = await fuzzHttp1(
      monitorPort,
      ['/metrics', '/api/v1/health', '/api/v1/metrics/prometheus'],
      randomBytes(8),
    );
    alive();
    expect(r.uncoded, seed).toEqual([]);
    expect(r.serverErrors, `${seed}: server errors`).toEqual([]);
    expect(r.statuses.has(400) || r.statuses.has(404), seed).toBe(true);
    const health = await fetch(`http://127.0.0.1:${monitorPort}/api/v1/health`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    const missing = await fetch(`http://127.0.0.1:${monitorPort}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      'SPROUT_ERR_COLLECTOR_BAD_REQUEST',
    );
    expect(await metric(/collector_input_records_total\{input="http\.0"\} (\d+)/)).toBeGreaterThan(0);
  });
});
