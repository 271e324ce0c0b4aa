import { describe, expect, it } from 'vitest';
import type { FunctionUpstream } from '@sprout/gateway';
import { plainFunction } from '@sprout/spec';
import { routesFor } from './routes.js';

const backend = (name: string): FunctionUpstream => ({
  name,
  instances: () => [],
  scaleTo: () => undefined,
  onInstancesChanged: () => () => undefined,
});

describe('routesFor', () => {
  it('serves a single function at /<name> and /', () => {
    const { routes, conflicts } = routesFor([plainFunction('hello', '/x')], backend);
    expect(conflicts).toEqual([]);
    expect(routes).toMatchObject([
      {
        hosts: [],
        pathPrefixes: ['/hello', '/'],
        scaling: { minReplicas: 0, targetConcurrency: 100 },
        options: { stripPrefix: true },
      },
    ]);
  });

  it('serves several functions at /<name> only, and uses explicit rules and annotations', () => {
    const b = plainFunction('b', '/b');
    b.routes = [{ hosts: ['b.local'], pathPrefix: '/api', headers: { 'x-v': '2' } }];
    b.scaling.metric = 'requestRate';
    b.placeholder = 'warming up';
    b.fallback = 'http://127.0.0.1:9999/';
    const { routes } = routesFor([plainFunction('a', '/a'), b], backend);
    expect(routes).toHaveLength(2);
    expect(routes[0]).toMatchObject({ pathPrefixes: ['/a'] });
    expect(routes[1]).toMatchObject({
      hosts: ['b.local'],
      pathPrefixes: ['/api'],
      headers: { 'x-v': '2' },
      scaling: { targetRate: 100 },
      options: {
        placeholder: { status: 503, body: 'warming up' },
        fallback: { host: '127.0.0.1', port: 9999 },
      },
    });
    expect(routes[1]!.scaling.targetConcurrency).toBeUndefined();
  });

  it('reports two functions claiming the same host and prefix', () => {
    const a = plainFunction('a', '/a');
    const b = plainFunction('b', '/b');
    a.routes = [{ hosts: ['x.local'], pathPrefix: '/' }];
    b.routes = [{ hosts: ['x.local'], pathPrefix: '/' }];
    const { routes, conflicts } = routesFor([a, b], backend);
    expect(routes.map((r) => r.upstream.name)).toEqual(['a']);
    expect(conflicts[0]).toMatchObject({
      code: 'SPROUT_ERR_PLATFORM_ROUTE_CONFLICT',
      message: expect.stringContaining('already served by "a"'),
    });
  });
});
