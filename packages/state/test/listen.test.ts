import { createServer } from 'node:net';
import { closeServer, listen } from '@sprout/http/testing';
import { describe, expect, it } from 'vitest';
import { createStateApiServer, isStateError, MemoryStateStore } from '@sprout/state';

describe('the Dapr state API server on a busy port', () => {
  it('rejects with SPROUT_ERR_STATE_PORT_IN_USE naming the address, and can listen elsewhere after', async () => {
    const taken = createServer();
    const port = await listen(taken);
    const server = createStateApiServer({ stores: [new MemoryStateStore('s')] });
    try {
      const err = await server.listen(port, '127.0.0.1').catch((e: unknown) => e);
      expect(isStateError(err, 'SPROUT_ERR_STATE_PORT_IN_USE')).toBe(true);
      expect(err).toMatchObject({ field: 'port', status: 500 });
      expect((err as Error).message).toBe(
        `the Dapr state API cannot listen on 127.0.0.1:${port} (EADDRINUSE: something else listens there)`,
      );
      expect((err as { cause?: { code?: string } }).cause?.code).toBe('EADDRINUSE');
      const { url } = await server.listen(0);
      expect((await fetch(`${url}/v1.0/healthz`)).status).toBe(204);
    } finally {
      await server.close();
      await closeServer(taken);
    }
  });
});
