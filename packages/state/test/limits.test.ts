import { openSlowClients } from '@sprout/http/testing';
import { describe, expect, it } from 'vitest';
import { createStateApiServer, MemoryStateStore } from '@sprout/state';

describe('the Dapr state API listener is bounded', () => {
  it('closes slowloris connections at its header timeout and makes room at its cap, still serving', async () => {
    const server = createStateApiServer({
      stores: [new MemoryStateStore('limits')],
      limits: { maxConnections: 100, headersTimeoutMs: 2_000 },
    });
    const { url, port } = await server.listen(0);
    const slow = await openSlowClients(port, 150, { intervalMs: 500 });
    try {
      // 50 over the cap were pushed out at once, the rest go at the header timeout.
      expect((await fetch(`${url}/v1.0/healthz`)).status).toBe(204);
      expect(await slow.allClosed(15_000)).toBe(true);
      expect(slow.closed).toBe(150);
      expect(Math.max(...slow.lifetimes)).toBeLessThan(10_000);
      expect((await fetch(`${url}/v1.0/healthz`)).status).toBe(204);
    } finally {
      slow.close();
      await server.close();
    }
  }, 30_000);
});
