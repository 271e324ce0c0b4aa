import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { openSlowClients, type SlowClients } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H2_PREFACE } from '../src/otlp/sniff.js';
import { createCollector, parseConfig, type Collector } from '../src/index.js';
import { quiet } from './helpers.js';

// The collector's HTTP listeners (the http input, the opentelemetry input's shared port and the
// monitoring server) keep the listener limits of every Sprout server: a request head must arrive
// within 10 s (Node's own default is 60 s), so slowloris connections are closed while good requests
// are still served.
const SLOW = 60;

describe('collector HTTP listeners under a slowloris attack', () => {
  let c: Collector;
  beforeAll(async () => {
    c = createCollector(
      parseConfig(`
service: { http_server: on, http_listen: 127.0.0.1, http_port: 0 }
pipeline:
  inputs:
    - { name: http, listen: 127.0.0.1, port: 0, tag: limits.http }
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, grpc_port: 0 }
  outputs:
    - { name: 'null', match: '*' }
`),
      { logger: quiet },
    );
    await c.start();
  });
  afterAll(() => c.close());

  it('closes slow connections at the header timeout and keeps serving good requests', async () => {
    const httpPort = c.inputs()[0]!.address!.port!;
    const otlpPort = c.inputs()[1]!.address!.port!;
    const monitorPort = c.monitorAddress()!.port;
    const slow: SlowClients[] = [];
    try {
      for (const port of [httpPort, otlpPort, monitorPort])
        slow.push(await openSlowClients(port, SLOW, { intervalMs: 500 }));
      // While the slow connections are held, good clients are answered.
      const post = await fetch(`http://127.0.0.1:${httpPort}/limits.http`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"ok":1}',
      });
      expect(post.status).toBe(201);
      const otlp = await fetch(`http://127.0.0.1:${otlpPort}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"resourceLogs":[]}',
      });
      expect(otlp.status).toBe(201);
      expect((await fetch(`http://127.0.0.1:${monitorPort}/api/v1/health`)).status).toBe(200);

      // Every slow connection is closed by the server (the header timeout), none left open.
      const closed = await Promise.all(slow.map((s) => s.allClosed(20_000)));
      expect(closed).toEqual([true, true, true]);
      for (const s of slow) {
        expect(s.opened).toBe(SLOW);
        expect(s.closed).toBe(SLOW);
        // Node's default would hold them 60 s; the limit closes them at 10 s (checked every second).
        expect(Math.max(...s.lifetimes)).toBeLessThan(20_000);
      }
      expect((await fetch(`http://127.0.0.1:${monitorPort}/api/v1/health`)).status).toBe(200);
    } finally {
      for (const s of slow) s.close();
    }
  }, 40_000);
});

/**
 * HTTP/2 slowloris: `n` connections that send the connection preface one byte every 500 ms
 * (`trickle`) or whole and then nothing, never their SETTINGS. Resolves with how long each lived,
 * or null for one still open after `waitMs`.
 */
async function slowHttp2(port: number, n: number, how: 'trickle' | 'stall', waitMs: number) {
  const preface = Buffer.from(H2_PREFACE);
  const lives = Array.from(
    { length: n },
    () =>
      new Promise<number | null>((resolve) => {
        const t0 = Date.now();
        const s: Socket = connect(port, '127.0.0.1');
        let sent = 0;
        const drip = setInterval(() => {
          if (how === 'trickle' && sent < preface.length && s.writable)
            s.write(preface.subarray(sent, ++sent));
        }, 500);
        s.on('connect', () => how === 'stall' && s.write(preface));
        s.on('data', () => {});
        s.on('error', () => {});
        const end = (v: number | null) => {
          clearInterval(drip);
          clearTimeout(give);
          s.destroy();
          resolve(v);
        };
        const give = setTimeout(() => end(null), waitMs);
        s.on('close', () => end(Date.now() - t0));
      }),
  );
  return Promise.all(lives);
}

/** A unary OTLP logs Export over gRPC with grpc-js; the status code (0 = OK). */
function grpcExport(port: number): Promise<number> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      (err) => {
        client.close();
        resolve(err?.code ?? 0);
      },
    ),
  );
}

describe('OTLP/gRPC under an HTTP/2 slowloris attack', () => {
  let c: Collector;
  beforeAll(async () => {
    c = createCollector(
      parseConfig(`
pipeline:
  inputs:
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, grpc_port: 0 }
  outputs:
    - { name: 'null', match: '*' }
`),
      { logger: quiet },
    );
    await c.start();
  });
  afterAll(() => c.close());

  it('closes sessions that never send their SETTINGS at the head timeout, on grpc_port and the shared port, and keeps serving calls', async () => {
    const { port, grpcPort } = c.inputs()[0]!.address!;
    const [trickled, stalled, during] = await Promise.all([
      slowHttp2(grpcPort!, 30, 'trickle', 25_000),
      slowHttp2(port!, 30, 'stall', 25_000),
      // Good calls are answered while the slow ones are held.
      new Promise((r) => setTimeout(r, 1_000)).then(() =>
        Promise.all([grpcExport(grpcPort!), grpcExport(port!)]),
      ),
    ]);
    expect(during).toEqual([0, 0]);
    // Without the preface deadline these stay for the 120 s idle timeout.
    for (const lives of [trickled, stalled]) {
      expect(lives.filter((l) => l === null)).toEqual([]);
      expect(Math.max(...(lives as number[]))).toBeLessThan(20_000);
    }
    expect(await Promise.all([grpcExport(grpcPort!), grpcExport(port!)])).toEqual([0, 0]);
  }, 40_000);
});
