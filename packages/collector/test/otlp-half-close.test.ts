import { connect } from 'node:net';
import { closeServer, listen } from '@sprout/http/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createCollector, parseConfig, type Collector } from '../src/index.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

let c: Collector | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

/** Sends `bytes`, half-closes, and resolves with how long the server kept the connection open. */
function heldOpenMs(port: number, bytes: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = connect(port, '127.0.0.1', () => {
      s.write(bytes);
      s.end();
    });
    s.on('error', () => undefined);
    s.resume(); // read (and drop) whatever the server answers, so 'close' can come
    s.on('close', () => resolve(performance.now() - t0));
    // Still open well past the grace period: report it instead of hanging the test.
    setTimeout(() => {
      s.destroy();
      resolve(Infinity);
    }, 15_000).unref();
  });
}

describe('opentelemetry input: HTTP/2 connections the peer half-closed', () => {
  it('closes a session left waiting for the rest of a frame once the peer sent FIN', async () => {
    c = createCollector(
      parseConfig(
        "pipeline:\n  inputs:\n    - { name: opentelemetry, listen: 127.0.0.1, port: 0 }\n  outputs:\n    - { name: 'null', match: '*' }\n",
      ),
    );
    await c.start();
    const port = (c.inputs()[0]!.address as { port: number }).port;
    // A SETTINGS frame header announcing 600 bytes, then only 30 of them: nghttp2 waits for the rest.
    const partial = Buffer.concat([PREFACE, Buffer.from([0, 2, 0x58, 4, 0, 0, 0, 0, 0]), Buffer.alloc(30)]);
    const held = await Promise.all(Array.from({ length: 5 }, () => heldOpenMs(port, partial)));
    // Closed after the grace period (2 s), not held until the test times out.
    for (const ms of held) expect(ms, 'connection held open after FIN').toBeLessThan(15_000);
    // The port still serves.
    const r = await fetch(`http://127.0.0.1:${port}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceLogs":[]}',
    });
    expect(r.status).toBe(201);
  });

  it('closes an HTTP/2 session that stalls mid-frame without closing its side', async () => {
    const { otlpGrpcServer } = await import('../src/otlp/grpc.js');
    const { createServer } = await import('node:net');
    const grpc = otlpGrpcServer(
      { maxBytes: 1024, idleTimeoutMs: 300 },
      () => Promise.resolve({ code: 0 } as never),
      () => undefined,
    );
    const tcp = createServer((socket) => grpc.server.emit('connection', socket));
    const port = await listen(tcp);
    const closedMs = await new Promise<number>((resolve) => {
      const t0 = performance.now();
      const s = connect(port, '127.0.0.1', () =>
        s.write(Buffer.concat([PREFACE, Buffer.from([0, 2, 0x58, 4, 0, 0, 0, 0, 0]), Buffer.alloc(30)])),
      );
      s.on('error', () => undefined);
      s.resume();
      s.on('close', () => resolve(performance.now() - t0));
      setTimeout(() => {
        s.destroy();
        resolve(Infinity);
      }, 15_000).unref();
    });
    expect(closedMs, 'stalled session held open').toBeLessThan(15_000);
    await grpc.close();
    await closeServer(tcp);
  });
});
