import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessUpstream } from './process-upstream.js';
import { get, startGateway, type TestGateway } from './harness.js';

describe('routing through the gateway to real instances', () => {
  let t: TestGateway;
  const a = new ProcessUpstream('route-a');
  const b = new ProcessUpstream('route-b');
  const c = new ProcessUpstream('route-c');
  const scaling = { minReplicas: 1, maxReplicas: 1 };

  beforeAll(async () => {
    t = await startGateway();
    t.gw.setRoutes([
      { upstream: a, scaling, hosts: ['a.test'] },
      { upstream: b, scaling, hosts: ['*.b.test'], pathPrefixes: ['/api'], options: { stripPrefix: true } },
      { upstream: c, scaling, hosts: ['*'], pathPrefixes: ['/c'], headers: { 'x-tenant': 'c' } },
    ]);
  });
  afterAll(async () => {
    await t.gw.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('routes by exact host, wildcard host + prefix, and header match', async () => {
    expect((await get(t.port, '/', { headers: { host: 'a.test' } })).body).toBe('hello from route-a\n');
    const viaB = await get(t.port, '/api/headers?q=1', { headers: { host: 'x.b.test:8080' } });
    expect(viaB.status).toBe(200);
    const seen = JSON.parse(viaB.body) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/headers?q=1');
    expect(seen.headers.host).toBe('x.b.test:8080');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).toBe('x.b.test:8080');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect((await get(t.port, '/c', { headers: { host: 'z.test', 'x-tenant': 'c' } })).body).toBe(
      'hello from route-c\n',
    );
  });

  it('answers 404 with a JSON body naming the host and path when nothing matches', async () => {
    for (const [host, path, headers] of [
      ['nowhere.test', '/', {}],
      ['x.b.test', '/other', {}],
      ['z.test', '/c', { 'x-tenant': 'd' }],
    ] as const) {
      const r = await get(t.port, path, { headers: { host, ...headers } });
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toMatch(/application\/json/);
      expect(JSON.parse(r.body)).toEqual({
        error: { code: 'SPROUT_ERR_GATEWAY_NO_ROUTE', message: expect.any(String), host, path },
      });
    }
  });

  it('swaps the routing table while serving', async () => {
    t.gw.setRoutes([{ upstream: b, scaling, hosts: ['a.test'] }]);
    expect((await get(t.port, '/', { headers: { host: 'a.test' } })).body).toBe('hello from route-b\n');
    expect((await get(t.port, '/api', { headers: { host: 'x.b.test' } })).status).toBe(404);
  });

  it('refuses an invalid route table with a coded error and keeps the old one', async () => {
    expect(() => t.gw.setRoutes([{ upstream: a, scaling, hosts: ['bad host'] }])).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_GATEWAY_INVALID_ROUTE', field: 'routes[0].hosts' }),
    );
    expect(() => t.gw.setRoutes([{ upstream: a, scaling, options: { readinessTimeoutMs: -1 } }])).toThrow(
      expect.objectContaining({ field: 'routes[0].options.readinessTimeoutMs' }),
    );
    expect((await get(t.port, '/', { headers: { host: 'a.test' } })).body).toBe('hello from route-b\n');
  });
});
