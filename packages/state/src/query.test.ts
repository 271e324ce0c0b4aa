import { describe, expect, it } from 'vitest';
import { isStateError } from './errors.js';
import { matches, parseQuery, runQuery } from './query.js';
import type { QueryFilter } from './types.js';

const doc = { a: 1, s: 'm', b: true, n: null, o: { p: { q: 5 } }, arr: [1, 2], obj: { x: 1 } };

// Filter fixture table: (filter, expected match on `doc`). Semantics follow Dapr's query API
// (EQ/NEQ/IN/GT/GTE/LT/LTE/AND/OR on dot-paths); a path the value lacks matches nothing but NEQ.
const table: [QueryFilter, boolean][] = [
  [{ EQ: { a: 1 } }, true],
  [{ EQ: { a: '1' } }, false],
  [{ EQ: { 'o.p.q': 5 } }, true],
  [{ EQ: { n: null } }, true],
  [{ EQ: { arr: [1, 2] } }, true],
  [{ EQ: { obj: { x: 1 } } }, true],
  [{ EQ: { missing: 1 } }, false],
  [{ EQ: { 'a.deeper': 1 } }, false],
  [{ NEQ: { a: 2 } }, true],
  [{ NEQ: { missing: 2 } }, true],
  [{ NEQ: { s: 'm' } }, false],
  [{ IN: { s: ['x', 'm'] } }, true],
  [{ IN: { s: [] } }, false],
  [{ GT: { a: 0 } }, true],
  [{ GT: { a: 1 } }, false],
  [{ GTE: { a: 1 } }, true],
  [{ LT: { s: 'n' } }, true],
  [{ LTE: { s: 'l' } }, false],
  [{ GT: { s: 0 } }, false],
  [{ LT: { missing: 10 } }, false],
  [{ AND: [{ EQ: { a: 1 } }, { EQ: { b: true } }] }, true],
  [{ AND: [{ EQ: { a: 1 } }, { EQ: { b: false } }] }, false],
  [{ OR: [{ EQ: { a: 2 } }, { GT: { 'o.p.q': 4 } }] }, true],
  [{ OR: [{ EQ: { a: 2 } }, { AND: [{ EQ: { s: 'm' } }, { LT: { a: 0 } }] }] }, false],
];

describe('query filters', () => {
  it.each(table)('%j → %s', (filter, expected) => {
    expect(parseQuery({ filter }).filter).toEqual(filter);
    expect(matches(filter, doc)).toBe(expected);
  });

  it('treats an empty filter as match-all', () => {
    expect(parseQuery({ filter: {} })).toEqual({});
  });

  it.each([
    [null, 'a query must be an object'],
    [{ filter: { EQ: { a: 1 }, NEQ: { a: 2 } } }, 'exactly one operator'],
    [{ filter: { LIKE: { a: 1 } } }, 'unknown operator'],
    [{ filter: { EQ: { a: 1, b: 2 } } }, 'one path'],
    [{ filter: { EQ: { '': 1 } } }, 'not a dot-path'],
    [{ filter: { IN: { a: 1 } } }, 'must be an array'],
    [{ filter: { AND: {} } }, 'non-empty array'],
    [{ sort: {} }, 'sort must be an array'],
    [{ sort: [{ key: 'a', order: 'UP' }] }, 'ASC or DESC'],
    [{ page: { limit: -1 } }, 'non-negative'],
    [{ page: { token: 5 } }, 'page.token'],
    [{ select: ['a'] }, 'unknown query field'],
  ])('refuses %j', (q, message) => {
    expect(() => parseQuery(q)).toThrow(message);
  });
});

describe('runQuery', () => {
  const items = [3, 1, 2, 5, 4].map((n) => ({ key: `k${n}`, value: { n, even: n % 2 === 0 }, etag: '1' }));

  it('sorts by several keys and pages with tokens until the end', () => {
    const q = { sort: [{ key: 'even', order: 'DESC' as const }, { key: 'n' }], page: { limit: 2 } };
    const p1 = runQuery(items, q);
    expect(p1.results.map((r) => r.key)).toEqual(['k2', 'k4']);
    const p2 = runQuery(items, { ...q, page: { limit: 2, token: p1.token! } });
    expect(p2.results.map((r) => r.key)).toEqual(['k1', 'k3']);
    const p3 = runQuery(items, { ...q, page: { limit: 2, token: p2.token! } });
    expect(p3.results.map((r) => r.key)).toEqual(['k5']);
    expect(p3.token).toBeUndefined();
  });

  it('orders by key when no sort is given', () => {
    expect(runQuery(items, {}).results.map((r) => r.key)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
  });

  it('names the key whose value lacks the sort path', () => {
    const err = (() => {
      try {
        runQuery([...items, { key: 'odd', value: { m: 1 } as never, etag: '1' }], { sort: [{ key: 'n' }] });
      } catch (e) {
        return e;
      }
    })();
    expect(isStateError(err, 'SPROUT_ERR_STATE_QUERY_PATH_MISSING')).toBe(true);
    expect((err as Error).message).toContain('"odd"');
  });

  it('survives random query documents: either a typed error or a result (time-boxed fuzz)', () => {
    let seed = 11;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const atoms = [1, 'm', true, null, [], {}, [1, 2], 'a..b', '', 'o.p.q', -1, 2.5];
    const ops = ['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE', 'IN', 'AND', 'OR', 'XX'];
    const gen = (depth: number): unknown => {
      const op = ops[rnd(ops.length)]!;
      if ((op === 'AND' || op === 'OR') && depth < 3)
        return { [op]: Array.from({ length: rnd(3) }, () => gen(depth + 1)) };
      const path = ['a', 's', 'o.p.q', 'missing', '', 'a..b'][rnd(6)]!;
      return rnd(8) === 0 ? atoms[rnd(atoms.length)] : { [op]: { [path]: atoms[rnd(atoms.length)] } };
    };
    const deadline = Date.now() + 500;
    let ok = 0;
    let refused = 0;
    while (Date.now() < deadline) {
      const q = { filter: gen(0), ...(rnd(2) ? { sort: [{ key: ['n', 'even', 'x'][rnd(3)] }] } : {}) };
      try {
        const out = runQuery(items, parseQuery(q));
        expect(Array.isArray(out.results)).toBe(true);
        ok++;
      } catch (err) {
        expect(isStateError(err), String(err)).toBe(true);
        refused++;
      }
    }
    expect(ok).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});

describe('paths and equality', () => {
  it('enters arrays by index only and compares objects regardless of key order', () => {
    const v = { items: [{ sku: 'a' }, { sku: 'b' }], o: { x: 1, y: [1, { z: 2 }] } };
    expect(matches({ EQ: { 'items.1.sku': 'b' } }, v)).toBe(true);
    expect(matches({ EQ: { 'items.length': 2 } }, v)).toBe(false);
    expect(matches({ EQ: { 'items.2.sku': 'b' } }, v)).toBe(false);
    expect(matches({ EQ: { o: { y: [1, { z: 2 }], x: 1 } } }, v)).toBe(true);
    expect(matches({ EQ: { o: { y: [{ z: 2 }, 1], x: 1 } } }, v)).toBe(false);
    expect(matches({ EQ: { o: { x: 1 } } }, v)).toBe(false);
  });
});
