import { describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
import { routeOf } from './routes.js';

describe("routeOf: the app's /dapr/subscribe answer", () => {
  const list = [
    { pubsubname: 'bus', topic: 'a', route: 'orders' },
    {
      pubsubname: 'bus',
      topic: 'b',
      routes: { default: '/fallback', rules: [{ match: 'event.type == "x"', path: '/x' }] },
    },
    {
      pubsubname: 'bus',
      topic: 'c',
      route: '/c',
      metadata: { rawPayload: 'true', n: 1 },
      deadLetterTopic: 'c-dead',
    },
    { pubsubname: 'other', topic: 'a', route: '/other' },
    { pubsubname: 'bus', topic: 'd', routes: { rules: [{ match: 'true', path: '/only-rule' }] } },
  ];

  it.each([
    ['bus', 'a', { path: '/orders', rules: [], metadata: {} }],
    ['bus', 'b', { path: '/fallback', rules: [{ match: 'event.type == "x"', path: '/x' }], metadata: {} }],
    ['bus', 'c', { path: '/c', rules: [], metadata: { rawPayload: 'true' }, deadLetterTopic: 'c-dead' }],
    ['other', 'a', { path: '/other', rules: [], metadata: {} }],
    ['bus', 'd', { rules: [{ match: 'true', path: '/only-rule' }], metadata: {} }],
    ['bus', 'zz', undefined],
  ])('%s/%s', (pubsub, topic, want) => {
    expect(routeOf(list, pubsub, topic)).toEqual(want);
  });

  it('fuzz: entries of random shapes never throw; a route found always starts with /', () => {
    const rng = seededRng();
    const values = [
      undefined,
      null,
      1,
      '',
      'x',
      '/y',
      [],
      {},
      { default: 'd' },
      { rules: [1] },
      { rawPayload: 2 },
    ];
    const until = Date.now() + 200;
    for (let i = 0; i < 10 || Date.now() < until; i++) {
      const entries = Array.from({ length: rng.int(0, 5) }, () => ({
        pubsubname: rng.pick(['bus', 'x', undefined, 3]),
        topic: rng.pick(['t', '', undefined]),
        route: rng.pick(values),
        routes: rng.pick(values),
        metadata: rng.pick(values),
        deadLetterTopic: rng.pick(values),
      }));
      const r = routeOf(entries as never, 'bus', 't');
      if (r) {
        expect(r.path === undefined || r.path.startsWith('/'), `seed ${rng.seed}`).toBe(true);
        expect(r.path !== undefined || r.rules.length > 0).toBe(true);
        expect(r.rules.every((x) => x.path.startsWith('/') && typeof x.match === 'string')).toBe(true);
        expect(Object.values(r.metadata).every((v) => typeof v === 'string')).toBe(true);
      }
    }
  });
});
