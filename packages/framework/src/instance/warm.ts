import { request } from 'node:http';
import { createLogger } from '@sprout/observe';
import type { HttpFunction } from '../registry.js';
import { serve } from '../serve.js';

/** One GET through a fresh connection, as the gateway's first forward to a new instance makes it. */
function get(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.once('end', resolve);
    });
    req.once('error', reject);
    req.end();
  });
}

/**
 * Readies a pre-started process for a cold start: loads what a start would otherwise load on
 * demand (the http signature's invoker, the server's request path) and sends a few requests through a
 * throwaway server on loopback, so the first real request finds Node's and the framework's HTTP
 * code compiled. Nothing of it stays: no function module is loaded and the server is closed.
 */
export async function warmUp(requests = 3): Promise<void> {
  const fn: HttpFunction = (_req, res) => res.send('warm');
  const running = await serve({
    functions: { fn, target: 'warm', signatureType: 'http' },
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ name: 'warm-up', level: 'warn' }),
  });
  try {
    for (let i = 0; i < requests; i++) await get(`${running.url}/?warm=${i}`);
  } finally {
    await running.close();
  }
}
