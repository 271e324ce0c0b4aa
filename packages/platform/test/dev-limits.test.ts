import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen, openSlowClients } from '@sprout/http/testing';
import { startDev, type DevServer } from '../src/index.js';
import { captureLogs, fixtures } from './helpers.js';

/** Streams `size` bytes chunked to `/` in 16 KiB writes; resolves with the status (0: connection broken). */
function postChunked(port: number, size: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    const chunk = Buffer.alloc(16 * 1024, 97);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

const hello = fileURLToPath(new URL('../../../examples/hello', import.meta.url));

describe('sprout dev listeners are bounded apart', () => {
  let d: DevServer;
  beforeAll(async () => {
    const { logger } = captureLogs();
    d = await startDev({
      paths: [hello],
      cwd: fixtures,
      dataDir: mkdtempSync(join(tmpdir(), 'sprout-platform-limits-')),
      port: 0,
      host: '127.0.0.1',
      apiPort: 0,
      logger,
      collector: false,
      eip: false,
      env: { ...process.env, SPROUT_BODY_LIMIT: '1kb' },
      limits: { gateway: { maxConnections: 300 }, maxConnectionsPerInstance: 16 },
    });
    expect((await fetch(`${d.url}/`)).status).toBe(200);
  }, 60_000);
  afterAll(() => d.close());

  it('passes on 413 from a function for a chunked body over its limit, every time (not 502)', async () => {
    const port = Number(new URL(d.url).port);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await postChunked(port, 4 << 20));
    expect(statuses).toEqual(Array(20).fill(413));
    expect(await postChunked(port, 100)).toBe(200);
  }, 60_000);

  it('answers the API while slowloris connections hold every gateway connection', async () => {
    const port = Number(new URL(d.url).port);
    // Twice the gateway's cap: the gateway sheds them, the API's own listener is untouched.
    const slow = await openSlowClients(port, 600, { intervalMs: 2_000 });
    try {
      for (let i = 0; i < 10; i++) {
        const health = await fetch(`${d.api.url}/v1/health`);
        expect(health.status).toBe(200);
        expect((await fetch(`${d.url}/`)).status).toBe(200);
      }
      // At least the 300 over the cap are shed (their closes may still be on the way).
      while (slow.closed < 300) await new Promise((r) => setTimeout(r, 50));
    } finally {
      slow.close();
    }
  }, 60_000);
});

describe('a failing collector does not take sprout dev down', () => {
  it('serves functions and the API without a collector that cannot start, and logs that it is isolated', async () => {
    const taken = createServer();
    const port = await listen(taken);
    const dir = mkdtempSync(join(tmpdir(), 'sprout-platform-isolated-'));
    const config = join(dir, 'collector.yaml');
    writeFileSync(
      config,
      `pipeline:\n  inputs:\n    - name: http\n      listen: 127.0.0.1\n      port: ${port}\n      tag: side\n  outputs:\n    - name: stdout\n      match: '*'\n`,
    );
    const { logs, logger } = captureLogs();
    const d = await startDev({
      paths: [hello],
      cwd: fixtures,
      dataDir: dir,
      port: 0,
      host: '127.0.0.1',
      apiPort: 0,
      logger,
      eip: false,
      collector: { configFile: config },
    });
    try {
      expect((await fetch(`${d.url}/`)).status).toBe(200);
      expect((await fetch(`${d.api.url}/v1/health`)).status).toBe(200);
      expect(
        logs.find((l) => l.msg === 'the collector failed to start; serving without it (isolated)'),
      ).toMatchObject({
        level: 'error',
      });
    } finally {
      await d.close();
      await closeServer(taken);
    }
  }, 60_000);
});
