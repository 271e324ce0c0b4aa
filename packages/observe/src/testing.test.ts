import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { uniqueBindings } from './bindings.js';
import { assertNoDuplicateKeys } from './testing.js';

describe('assertNoDuplicateKeys', () => {
  // [line, paths of the repeated keys (empty: accepted)]
  const table: [string, string[]][] = [
    ['{}', []],
    ['[]', []],
    ['"text"', []],
    ['-1.5e3', []],
    ['{"level":"info","time":"t","component":"sprout","msg":"serving"}', []],
    ['{"component":"sprout","component":"collector"}', ['$.component']],
    ['{"function":"greeter","instance":"greeter-1","function":"hello","msg":"x"}', ['$.function']],
    ['{"a":{"b":1,"b":2},"b":3}', ['$.a.b']],
    ['{"a":[{"x":1},{"x":2,"x":3}]}', ['$.a[1].x']],
    ['{"a":1,"\\u0061":2}', ['$.a']],
    ['{"a":"}\\"a\\":","b":"{","a":0}', ['$.a']],
    [' { "a" : [ 1 , { } , "," ] , "b" : null , "a" : true } ', ['$.a']],
    ['{"a":1,"a":2,"a":3}', ['$.a', '$.a']],
    ['{"x":{"y":{"z":[{"k":1,"k":1}]}},"x":0}', ['$.x.y.z[0].k', '$.x']],
  ];

  it.each(table)('%s', (line, repeated) => {
    if (!repeated.length) {
      expect(assertNoDuplicateKeys(line)).toEqual(JSON.parse(line));
      return;
    }
    let thrown: unknown;
    try {
      assertNoDuplicateKeys(line);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AssertionError);
    expect((thrown as Error).message).toBe(`repeated key ${repeated.join(', ')} in ${line}`);
  });

  it('refuses text that is not JSON with a SyntaxError', () => {
    for (const bad of ['', '{', '{"a":1,}', '{"a" 1}', "{'a':1}", '{"a":1}{', 'nul', '[}']) {
      expect(() => assertNoDuplicateKeys(bad), bad).toThrow(SyntaxError);
    }
  });
});

// Fuzz, time-boxed: random JSON round-trips (and a key copied into the same object is found),
// random text and valid text cut at a random point throw nothing but SyntaxError/AssertionError.
describe('fuzz', () => {
  let seed = 0x0b5e7e;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chars = ['a', 'b', 'k', '"', '\\', ',', ':', '{', '}', '[', ']', ' ', '\n', 'é', '\u2028', '\u0001'];
  const text = () => Array.from({ length: Math.floor(rnd() * 6) }, () => pick(chars)).join('');
  const value = (depth: number): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.3) return pick([null, true, false, 0, -1.25e-7, 1e21, text()]);
    if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rnd() * 5); i > 0; i--) o[text()] = value(depth + 1);
    return o;
  };
  const deadline = (ms: number, min = 1000) => {
    const end = Date.now() + ms;
    let i = 0;
    return () => i++ < min || Date.now() < end;
  };
  const expectOnlyParseErrors = (line: string) => {
    try {
      expect(assertNoDuplicateKeys(line)).toEqual(JSON.parse(line));
    } catch (err) {
      if (!(err instanceof SyntaxError) && !(err instanceof AssertionError)) throw err;
    }
  };

  it('accepts random JSON, finds a key repeated in it, and keeps bindings text as written', () => {
    for (const more = deadline(400); more();) {
      const v = value(0);
      const line = JSON.stringify(v, null, rnd() < 0.3 ? 2 : undefined);
      expect(assertNoDuplicateKeys(line)).toEqual(v);
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
        const [key, first] = Object.entries(v)[0]!;
        const body = JSON.stringify(v).slice(1, -1);
        const twice = `{${body},${JSON.stringify(key)}:${JSON.stringify(first)}}`;
        expect(() => assertNoDuplicateKeys(twice), twice).toThrow(AssertionError);
        // The logger's merge of bindings: each key once, the text of every value as written.
        const extra = JSON.stringify(value(1));
        const merged = uniqueBindings(`,${body},${JSON.stringify(key)}:${extra}`);
        expect(assertNoDuplicateKeys(`{${merged.slice(1)}}`)).toEqual({ ...v, [key]: JSON.parse(extra) });
      }
    }
  });

  it('throws only SyntaxError or AssertionError on random text and on JSON cut short', () => {
    for (const more = deadline(300); more();) {
      expectOnlyParseErrors(Array.from({ length: Math.floor(rnd() * 20) }, () => pick(chars)).join(''));
      const line = JSON.stringify(value(0));
      expectOnlyParseErrors(line.slice(0, Math.floor(rnd() * line.length)));
    }
  });
});
