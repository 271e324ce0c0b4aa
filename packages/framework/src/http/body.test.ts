import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors.js';
import { fuzzBytes, prng } from '../fuzz.js';
import { parseBody } from './body.js';

describe('parseBody', () => {
  it.each([
    ['application/json', '{"a":[1,2]}', { a: [1, 2] }],
    ['application/json; charset=utf-8', '"x"', 'x'],
    ['application/vnd.api+json', '{"b":true}', { b: true }],
    ['application/cloudevents+json', '{"id":"1"}', { id: '1' }],
    ['application/json', '', {}],
    ['text/plain', 'héllo', 'héllo'],
    ['text/csv; charset=latin1', 'a,b', 'a,b'],
    ['application/x-www-form-urlencoded', 'a=1&a=2&b=x%20y', { a: ['1', '2'], b: 'x y' }],
  ])('%s %j', (type, body, expected) => {
    expect(parseBody(Buffer.from(body), type)).toEqual(expected);
  });

  it('keeps other types as the raw Buffer', () => {
    const raw = Buffer.from([0, 1, 2, 255]);
    expect(parseBody(raw, 'application/octet-stream')).toBe(raw);
    expect(parseBody(raw, undefined)).toBe(raw);
  });

  it('refuses malformed JSON with a 400 and a code', () => {
    expect(() => parseBody(Buffer.from('{"a":'), 'application/json')).toThrowError(
      expect.objectContaining({ status: 400, code: 'SPROUT_ERR_FRAMEWORK_MALFORMED_BODY' }),
    );
  });

  it('fuzz: every input parses or raises a coded 400', () => {
    const seed = Date.now() & 0xffff;
    const rnd = prng(seed);
    const types = [
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
    ];
    const base = Buffer.from('{"name":"x","list":[1,2,{"k":"v"}],"s":"é"}');
    for (let i = 0; i < 5000; i++) {
      const input = fuzzBytes(rnd, base);
      const type = types[i % types.length]!;
      try {
        parseBody(input, type);
      } catch (err) {
        expect(err, `seed ${seed}`).toBeInstanceOf(HttpError);
        expect((err as HttpError).status).toBe(400);
      }
    }
  });
});
