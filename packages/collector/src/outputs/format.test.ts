import { describe, expect, it } from 'vitest';
import { jsonLine, stringify, toJsonObject, type JsonFormatOptions } from './format.js';

const record = (body: Record<string, unknown>) => ({ time: 1_700_000_000_123_456_789n, tag: 't', body });

describe('jsonLine', () => {
  const bodies: Array<Record<string, unknown>> = [
    {},
    { message: 'hi', pri: 134 },
    { date: 'the body wins', n: 1 },
    { big: 12n, nested: { big: 3n } },
    { 'quote"key': 'a\nb' },
  ];
  const options: JsonFormatOptions[] = [
    { json_date_key: 'date', json_date_format: 'double' },
    { json_date_key: 'ts', json_date_format: 'iso8601' },
    { json_date_key: false, json_date_format: 'double' },
  ];
  for (const o of options)
    it(`is stringify(toJsonObject(r)) with ${JSON.stringify(o)}`, () => {
      for (const body of bodies) {
        const r = record(body);
        expect(jsonLine(r, o)).toBe(stringify(toJsonObject(r, o)));
      }
    });

  it('stringify turns bigints into strings and still throws on a cycle', () => {
    expect(stringify({ a: 1n })).toBe('{"a":"1"}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => stringify(cyclic)).toThrow(TypeError);
  });
});
