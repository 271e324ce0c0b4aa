import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResiliency } from '@sprout/spec';
import {
  createDaprApiServer,
  openOutputBinding,
  ResiliencyPolicies,
  type OutputBindingEngine,
} from '../src/index.js';

/**
 * The output path under a Dapr Resiliency file: `bindings.http` to a real local HTTP service, invoked
 * through the Dapr bindings API, with each binding's `outbound` retry, timeout and circuit breaker.
 */
describe('Resiliency outbound policies on the Dapr bindings API', () => {
  const plan: Record<string, (n: number) => number | 'hang'> = {
    // fails twice, then answers
    flaky: (n) => (n <= 2 ? 500 : 200),
    down: () => 503,
    slow: () => 'hang',
  };
  const hits: Record<string, number> = {};
  const server = createServer((req, res) => {
    const name = req.url!.split('/')[1]!;
    hits[name] = (hits[name] ?? 0) + 1;
    req.resume();
    const what = plan[name]!(hits[name]!);
    if (what === 'hang') return void setTimeout(() => res.end('late'), 2000).unref();
    res.writeHead(what).end(String(what));
  });
  const engines: OutputBindingEngine[] = [];
  let api: ReturnType<typeof createDaprApiServer>;
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const bindings: Record<string, OutputBindingEngine> = {};
    for (const name of Object.keys(plan)) {
      const e = await openOutputBinding({
        name,
        type: 'bindings.http',
        metadata: { url: `http://127.0.0.1:${port}/${name}` },
      });
      engines.push(e);
      bindings[name] = e;
    }
    const doc = parseResiliency({
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Resiliency',
      metadata: { name: 'outbound' },
      spec: {
        policies: {
          timeouts: { short: '200ms' },
          retries: { fast: { policy: 'constant', duration: '20ms', maxRetries: 3 }, none: { maxRetries: 0 } },
          circuitBreakers: { cb: { maxRequests: 1, timeout: '60s', trip: 'consecutiveFailures >= 2' } },
        },
        targets: {
          components: {
            flaky: { outbound: { retry: 'fast' } },
            down: { outbound: { retry: 'none', circuitBreaker: 'cb' } },
            slow: { outbound: { timeout: 'short', retry: 'none' } },
          },
        },
      },
    });
    api = createDaprApiServer({ pubsubs: {}, bindings, resiliency: new ResiliencyPolicies([doc], 'shop') });
    url = (await api.listen(0)).url;
  });
  afterAll(async () => {
    await api?.close();
    await Promise.all(engines.map((e) => e.close()));
    await new Promise((r) => server.close(r));
  });

  const invoke = async (name: string) => {
    const r = await fetch(`${url}/v1.0/bindings/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'post', data: { n: 1 } }),
    });
    return { status: r.status, body: await r.text() };
  };

  it('retries a failing call per the retry policy until it succeeds', async () => {
    const r = await invoke('flaky');
    expect(r.status).toBe(200);
    expect(hits.flaky).toBe(3);
  });

  it('opens the circuit breaker after the trip and stops calling the service while it is open', async () => {
    expect((await invoke('down')).status).toBe(500);
    expect((await invoke('down')).status).toBe(500);
    expect(hits.down).toBe(2);
    const refused = await invoke('down');
    expect(refused.status).toBe(500);
    expect(refused.body).toContain('SPROUT_ERR_TRIGGERS_CIRCUIT_OPEN');
    expect(hits.down).toBe(2); // not called while open
  });

  it('gives up an attempt at the timeout', async () => {
    const r = await invoke('slow');
    expect(r.status).toBe(500);
    expect(r.body).toContain('200 ms timeout');
    expect(hits.slow).toBe(1);
  });
});
