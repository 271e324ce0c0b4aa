import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessUpstream } from './process-upstream.js';
import { get, startGateway, until, type TestGateway } from './harness.js';

/** Sends `size` bytes as a chunked body (no content-length) in 16 KiB writes; resolves with the status. */
function postChunked(port: number, path: string, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
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

describe('gateway limits', () => {
  let t: TestGateway;
  const fn = new ProcessUpstream('limits-fn');

  beforeAll(async () => {
    t = await startGateway();
    t.gw.setRoutes([
      {
        upstream: fn,
        scaling: { minReplicas: 1, maxReplicas: 1 },
        pathPrefixes: ['/fn'],
        options: { stripPrefix: true },
      },
    ]);
    await until(() => fn.instances().length === 1);
  }, 30_000);
  afterAll(async () => {
    await t.gw.close();
    await fn.close();
  });

  it('passes on the instance 413 for an over-limit chunked body, every time', async () => {
    for (let i = 0; i < 20; i++) expect(await postChunked(t.port, '/fn/limited', 4 << 20)).toBe(413);
    expect(await postChunked(t.port, '/fn/limited', 512)).toBe(200);
  }, 60_000);

  it('passes on the instance 413 for an over-limit body with a content-length', async () => {
    const body = Buffer.alloc(2 << 20, 98);
    for (let i = 0; i < 10; i++)
      expect((await get(t.port, '/fn/limited', { method: 'POST', body })).status).toBe(413);
  }, 60_000);
});
