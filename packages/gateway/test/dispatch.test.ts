import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer, listen } from '@sprout/http/testing';
import type { DispatchOptions } from '@sprout/gateway';
import { ProcessUpstream } from './process-upstream.js';
import { get, startGateway, type TestGateway } from './harness.js';

describe('dispatch: requests received by another server', () => {
  let t: TestGateway | undefined;
  let embedder: Server | undefined;
  const backends: ProcessUpstream[] = [];
  afterEach(async () => {
    if (embedder) await closeServer(embedder);
    embedder = undefined;
    await t?.gw.close();
    t = undefined;
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });

  /** A server that hands `/<function>/<rest>` to the gateway as `/<rest>`, like the platform API's invoke. */
  async function startEmbedder(gw: TestGateway['gw'], options?: DispatchOptions): Promise<number> {
    embedder = createServer((req, res) => {
      const [, name, ...rest] = (req.url ?? '/').split('/');
      gw.dispatch(name ?? '', req, res, `/${rest.join('/')}`, options);
    });
    return listen(embedder);
  }

  it('holds, scales and forwards a dispatched request like a routed one, with the given path', async () => {
    t = await startGateway();
    const b = new ProcessUpstream('dispatched', { env: { READY_DELAY_MS: '100' } });
    backends.push(b);
    t.gw.setRoutes([{ upstream: b, scaling: { minReplicas: 0, maxReplicas: 1 }, pathPrefixes: ['/routed'] }]);
    const port = await startEmbedder(t.gw, { coldStartHeader: 'cold' });

    const first = await get(port, '/dispatched/headers?x=1');
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body).url).toBe('/headers?x=1');
    expect(first.headers['x-sprout-cold-start']).toBe('true');
    expect(b.scaleCalls.at(-1)).toEqual({ replicas: 1, reason: 'request held while no instance is ready' });

    // `'cold'`: a warm dispatch carries no header; the route itself keeps saying `false`.
    const warm = await get(port, '/dispatched/');
    expect(warm).toMatchObject({ status: 200, body: 'hello from dispatched\n' });
    expect(warm.headers['x-sprout-cold-start']).toBeUndefined();
    expect((await get(t.port, '/routed')).headers['x-sprout-cold-start']).toBe('false');

    // Counted per function like routed requests (when each response closes).
    await expect
      .poll(() => t!.gw.metricsText())
      .toMatch(/sprout_gateway_requests_total\{function="dispatched",code="2xx"\} 3/);
    // Their durations too; the cold one was held past the instance's 100 ms readiness delay.
    const text = await t.gw.metricsText();
    expect(text).toMatch(/sprout_gateway_request_duration_seconds_count\{function="dispatched"\} 3/);
    const under =
      /sprout_gateway_request_duration_seconds_bucket\{le="0.1",function="dispatched"\} (\d+)/.exec(text);
    expect(Number(under![1])).toBeLessThan(3);
  });

  it('answers 404 SPROUT_ERR_GATEWAY_NO_ROUTE for a function the routes do not name', async () => {
    t = await startGateway();
    const port = await startEmbedder(t.gw);
    const r = await get(port, '/nobody/x');
    expect(r.status).toBe(404);
    expect(r.headers['x-sprout-error-code']).toBe('SPROUT_ERR_GATEWAY_NO_ROUTE');
    expect(JSON.parse(r.body)).toEqual({
      error: {
        code: 'SPROUT_ERR_GATEWAY_NO_ROUTE',
        message: 'function nobody has no route in the gateway',
        function: 'nobody',
      },
    });
  });

  it('refuses a coldStartHeader option that is not true, false or "cold"', async () => {
    t = await startGateway();
    const b = new ProcessUpstream('bad-option');
    backends.push(b);
    expect(() =>
      t!.gw.setRoutes([
        {
          upstream: b,
          scaling: { minReplicas: 0, maxReplicas: 1 },
          options: { coldStartHeader: 'yes' as never },
        },
      ]),
    ).toThrow(
      expect.objectContaining({
        code: 'SPROUT_ERR_GATEWAY_INVALID_ROUTE',
        field: 'routes[0].options.coldStartHeader',
      }),
    );
  });
});
