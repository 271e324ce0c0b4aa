import { describe, expect, it } from 'vitest';
import { GatewayError } from './errors.js';
import { normalizeHost, RouteTable, type RouteMatch } from './route-table.js';

const none = () => undefined;
const table = (routes: [string, RouteMatch][]) =>
  new RouteTable(routes.map(([value, match]) => ({ value, match })));

describe('RouteTable', () => {
  const t = table([
    ['catch-root', {}],
    ['catch-api', { pathPrefixes: ['/api'] }],
    ['exact', { hosts: ['shop.example.com'], pathPrefixes: ['/'] }],
    ['exact-api', { hosts: ['shop.example.com'], pathPrefixes: ['/api', '/api/v2/'] }],
    ['wild', { hosts: ['*.example.com'] }],
    ['wild-deeper', { hosts: ['*.eu.example.com'] }],
    ['canary', { hosts: ['shop.example.com'], pathPrefixes: ['/api'], headers: { 'X-Canary': 'yes' } }],
  ]);

  it.each([
    ['shop.example.com', '/', 'exact', '/'],
    ['SHOP.example.com:8080', '/cart?x=1', 'exact', '/'],
    ['shop.example.com.', '/api', 'exact-api', '/api'],
    ['shop.example.com', '/api/v2/x', 'exact-api', '/api/v2'],
    ['shop.example.com', '/apiary', 'exact', '/'],
    ['a.example.com', '/api/x', 'wild', '/'],
    ['a.b.example.com', '/', 'wild', '/'],
    ['x.eu.example.com', '/', 'wild-deeper', '/'],
    ['example.com', '/', 'catch-root', '/'],
    ['other.test', '/api?q', 'catch-api', '/api'],
    [undefined, '/api/x', 'catch-api', '/api'],
  ])('host %s path %s → %s', (host, path, want, prefix) => {
    expect(t.lookup(host, path, none)).toEqual({ value: want, prefix });
  });

  it('prefers a route whose header condition holds, and ignores it otherwise', () => {
    const h = (name: string) => (name === 'x-canary' ? 'yes' : undefined);
    expect(t.lookup('shop.example.com', '/api/x', h)?.value).toBe('canary');
    expect(t.lookup('shop.example.com', '/api/x', () => 'no')?.value).toBe('exact-api');
    expect(t.lookup('shop.example.com', '/api/x', () => ['a', 'yes'])?.value).toBe('canary');
  });

  it('falls through to a less specific host tier when nothing in the exact tier matches the path', () => {
    const t2 = table([
      ['exact-a', { hosts: ['a.test'], pathPrefixes: ['/a'] }],
      ['wild', { hosts: ['*.test'], pathPrefixes: ['/b'] }],
      ['any', { hosts: ['*'], pathPrefixes: ['/c'] }],
    ]);
    expect(t2.lookup('a.test', '/a/1', none)?.value).toBe('exact-a');
    expect(t2.lookup('a.test', '/b', none)?.value).toBe('wild');
    expect(t2.lookup('a.test', '/c', none)?.value).toBe('any');
    expect(t2.lookup('a.test', '/d', none)).toBeUndefined();
    expect(t2.lookup('test', '/b', none)).toBeUndefined();
  });

  it('breaks ties by declaration order', () => {
    const t2 = table([
      ['first', { pathPrefixes: ['/x'] }],
      ['second', { pathPrefixes: ['/x'] }],
    ]);
    expect(t2.lookup('h', '/x', none)?.value).toBe('first');
  });

  it('is empty-safe', () => {
    expect(new RouteTable([]).lookup('h', '/', none)).toBeUndefined();
  });

  it.each([
    [{ hosts: ['a*.example.com'] }, 'routes[0].hosts'],
    [{ hosts: ['*.*.example.com'] }, 'routes[0].hosts'],
    [{ hosts: ['a b'] }, 'routes[0].hosts'],
    [{ hosts: [''] }, 'routes[0].hosts'],
    [{ pathPrefixes: ['api'] }, 'routes[0].pathPrefixes'],
    [{ pathPrefixes: ['/a?b'] }, 'routes[0].pathPrefixes'],
    [{ headers: { 'bad name': 'x' } }, 'routes[0].headers'],
  ] as [RouteMatch, string][])('refuses %j naming %s', (match, field) => {
    let err: unknown;
    try {
      table([['x', match]]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('SPROUT_ERR_GATEWAY_INVALID_ROUTE');
    expect((err as GatewayError).field).toBe(field);
  });

  it('normalizes hosts', () => {
    expect(normalizeHost('[::1]:8080')).toBe('[::1]');
    expect(normalizeHost('Example.COM.')).toBe('example.com');
  });
});
