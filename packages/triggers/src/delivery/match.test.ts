import { describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
import { isTriggersError } from '../errors.js';
import { compileMatch } from './match.js';

const event = {
  id: 'e1',
  type: 'widget',
  source: 'shop',
  topic: 'orders',
  data: {
    price: 120,
    name: 'blue widget',
    tags: ['a', 'b'],
    nested: { ok: true },
    none: null,
    'odd-key': 'x',
  },
};

describe('compileMatch: the CEL Dapr routing rules use', () => {
  it.each([
    // Dapr's own examples
    ['event.type == "widget"', true],
    ['event.type == "gadget"', false],
    ["event.type == 'widget'", true],
    // comparisons
    ['event.data.price > 100', true],
    ['event.data.price >= 120', true],
    ['event.data.price < 100', false],
    ['event.data.price <= 119.5', false],
    ['event.data.price != 120', false],
    ['event.source < "zzz"', true],
    // logic and grouping
    ['event.type == "widget" && event.data.price > 100', true],
    ['event.type == "gadget" || event.data.price > 100', true],
    ['!(event.type == "gadget")', true],
    ['!event.data.nested.ok', false],
    ['(event.type == "gadget" || event.type == "widget") && !(event.data.price < 50)', true],
    // paths, [] keys, null, booleans, literals
    ['event.data["odd-key"] == "x"', true],
    ['event.data.none == null', true],
    ['event.data.nested.ok == true', true],
    ['true', true],
    ['false', false],
    // has(), size(), string methods
    ['has(event.data.price)', true],
    ['has(event.data.missing)', false],
    ['size(event.data.tags) == 2', true],
    ['size(event.data.name) > 4', true],
    ['event.data.name.startsWith("blue")', true],
    ['event.data.name.endsWith("widget")', true],
    ['event.data.name.contains("e w")', true],
    ['event.data.name.contains(event.type)', true],
    // a missing path or mixed types is false, not an error
    ['event.data.missing == "x"', false],
    ['event.data.missing != "x"', false],
    ['event.data.price > "100"', false],
    ['event.type.startsWith(1)', false],
    ['event.data.tags.a == 1', false],
  ])('%s → %s', (expr, want) => {
    expect(compileMatch(expr)(event)).toBe(want);
  });

  it.each([
    'event.type in ["a", "b"]',
    'event.data.price + 1 > 2',
    'event.data.name.matches("^b")',
    'int(event.data.price) > 1',
    'event.type ==',
    '(event.type == "x"',
    'event.type == "x")',
    'event[0] == 1',
    'event.',
    'event.type = "x"',
    'event.type == "x" ? 1 : 2',
    '',
  ])('%j is refused with SPROUT_ERR_TRIGGERS_MATCH_UNSUPPORTED', (expr) => {
    let err: unknown;
    try {
      compileMatch(expr);
    } catch (e) {
      err = e;
    }
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_MATCH_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toContain(JSON.stringify(expr));
  });

  it('fuzz: random text and valid rules cut anywhere compile to a matcher that answers a boolean, or are refused with the code', () => {
    const rng = seededRng();
    const seeds = [
      'event.type == "widget" && event.data.price > 100',
      'has(event.data.x) || !event.data.name.startsWith("a")',
    ];
    const alphabet = 'event.data()[]"\'!&|=<>1 2.xyz_-';
    const counts = { compiled: 0, refused: 0 };
    const until = Date.now() + 300;
    for (let i = 0; i < 4 || Date.now() < until; i++) {
      const seed = seeds[i % seeds.length]!;
      const expr =
        i % 2
          ? Array.from({ length: rng.int(0, 30) }, () => rng.pick([...alphabet])).join('')
          : seed.slice(0, i < 2 ? seed.length : rng.int(0, seed.length + 1));
      let m: ((e: unknown) => boolean) | undefined;
      try {
        m = compileMatch(expr);
        counts.compiled++;
      } catch (err) {
        if (!isTriggersError(err, 'SPROUT_ERR_TRIGGERS_MATCH_UNSUPPORTED'))
          throw new Error(`seed ${rng.seed}, ${JSON.stringify(expr)}: ${String(err)}`);
        counts.refused++;
      }
      if (m)
        for (const e of [event, null, 'x', {}, { data: 5 }])
          expect(typeof m(e), `seed ${rng.seed}`).toBe('boolean');
    }
    expect(counts.compiled).toBeGreaterThan(0);
    expect(counts.refused).toBeGreaterThan(0);
  });
});
