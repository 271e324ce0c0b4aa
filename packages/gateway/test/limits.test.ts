import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSlowClients } from '@sprout/http/testing';
import { get, startGateway, startRoutedGateway } from './harness.js';

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
  let t: Awaited<ReturnType<typeof startRoutedGateway>>;

  beforeAll(async () => {
    t = await startRoutedGateway('limits-fn');
  }, 30_000);
  afterAll(() => t.close());

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

describe('gateway listener and upstream bounds', () => {
  let t: Awaited<ReturnType<typeof startRoutedGateway>>;

  beforeAll(async () => {
    t = await startRoutedGateway('limits-capped', {
      maxConnectionsPerInstance: 8,
      limits: { maxConnections: 1_500 },
    });
  }, 30_000);
  afterAll(() => t.close());

  it('opens at most maxConnectionsPerInstance per pool to an instance and queues the rest', async () => {
    const inst = t.fn.instances()[0]!;
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        // Counted at the instance; this probe's own connection is one of them.
        const n = Number((await get(inst.port, '/connections')).body) - 1;
        most = Math.max(most, n);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const bodyless = Array.from({ length: 150 }, () => get(t.port, '/fn/slow?ms=200'));
    const withBody = Array.from({ length: 50 }, () =>
      get(t.port, '/fn/echo', { method: 'POST', body: 'x'.repeat(100) }),
    );
    const replies = await Promise.all([...bodyless, ...withBody]);
    sampling = false;
    await sampler;
    expect(replies.filter((r) => r.status === 200)).toHaveLength(200);
    expect(most).toBeGreaterThanOrEqual(8);
    expect(most).toBeLessThanOrEqual(16);
  }, 60_000);

  it('closes 1,000 slowloris connections within the header timeout while serving requests', async () => {
    const slow = await openSlowClients(t.port, 1_000, { intervalMs: 2_000 });
    try {
      expect(slow.opened).toBe(1_000);
      let done = false;
      const closedAll = slow.allClosed(25_000).then((ok) => (done = ok));
      const statuses: number[] = [];
      while (!done) {
        statuses.push((await get(t.port, '/fn/')).status);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(await closedAll).toBe(true);
      expect(Math.max(...slow.lifetimes)).toBeLessThan(20_000);
      expect(statuses.length).toBeGreaterThan(5);
      expect(statuses.every((s) => s === 200)).toBe(true);
    } finally {
      slow.close();
    }
  }, 60_000);

  it('keeps serving when slowloris connections fill its connection cap', async () => {
    const slow = await openSlowClients(t.port, 1_500, { intervalMs: 2_000 });
    try {
      for (let i = 0; i < 20; i++) expect((await get(t.port, '/fn/')).status).toBe(200);
      expect(slow.closed).toBeGreaterThanOrEqual(1);
    } finally {
      slow.close();
    }
  }, 60_000);

  it('refuses invalid limits with a coded error naming the option', async () => {
    await expect(startGateway({ maxConnectionsPerInstance: 0 })).rejects.toMatchObject({
      code: 'SPROUT_ERR_GATEWAY_INVALID_OPTION',
      field: 'maxConnectionsPerInstance',
    });
    await expect(startGateway({ limits: { headersTimeoutMs: -1 } })).rejects.toMatchObject({
      code: 'SPROUT_ERR_GATEWAY_INVALID_OPTION',
      field: 'limits',
    });
  });
});
