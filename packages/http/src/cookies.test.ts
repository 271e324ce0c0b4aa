import { describe, expect, it } from 'vitest';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { dropCredentials, parseCookies, serializeCookie } from './cookies.js';
import { seededRng } from './rng.js';

describe('parseCookies', () => {
  it.each([
    ['a=1', [['a', '1']]],
    [
      'a=1; b=2',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    [
      '  a = 1 ;b=2;',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    ['a=1; a=2', [['a', '1']]],
    ['a="quoted"', [['a', 'quoted']]],
    ['a=x=y', [['a', 'x=y']]],
    ['novalue; =empty; b c=1; d=', [['d', '']]],
    ['', []],
  ])('%j', (header, pairs) => {
    expect([...parseCookies(header)]).toEqual(pairs);
  });

  it('reads every header of an array and nothing from none', () => {
    expect(parseCookies(['a=1', 'b=2']).get('b')).toBe('2');
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('round-trips what serializeCookie writes', () => {
    const set = serializeCookie('sprout_session', 'abc-_123', { httpOnly: true, secure: true, maxAge: 60 });
    expect(set).toBe('sprout_session=abc-_123; Path=/; SameSite=Strict; Max-Age=60; HttpOnly; Secure');
    expect(parseCookies(set.split(';')[0]).get('sprout_session')).toBe('abc-_123');
    expect(serializeCookie('x', '', { maxAge: -5 })).toBe('x=; Path=/; SameSite=Strict; Max-Age=0');
  });

  it('never throws on random input and keeps at most 64 cookies', () => {
    const rng = seededRng();
    const alphabet = ['a', '=', ';', ' ', '"', '\u0000', 'é', ',', 'b', '\\'];
    for (let i = 0; i < 5_000; i++) {
      const s =
        rng.next() < 0.3
          ? rng.bytes(rng.int(0, 200)).toString('latin1')
          : Array.from({ length: rng.int(0, 300) }, () => rng.pick(alphabet)).join('');
      const m = parseCookies(s);
      expect(m.size, `seed ${rng.seed}`).toBeLessThanOrEqual(64);
      for (const k of m.keys()) expect(k, `seed ${rng.seed}`).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
    }
    expect(parseCookies(Array.from({ length: 500 }, (_, i) => `c${i}=1`).join('; ')).size).toBe(64);
  });
});

describe('dropCredentials', () => {
  it("takes Sprout's credentials out, other headers and cookies stay", () => {
    const req = new IncomingMessage(new Socket());
    req.rawHeaders = [
      'Authorization',
      'Bearer secret',
      'Cookie',
      'theme=dark; sprout_session=s1; sprout_csrf=c1',
      'X-Sprout-CSRF',
      'c1',
      'X-Other',
      'kept',
    ];
    Object.assign(req.headers, {
      authorization: 'Bearer secret',
      cookie: 'theme=dark; sprout_session=s1; sprout_csrf=c1',
      'x-sprout-csrf': 'c1',
      'x-other': 'kept',
    });
    dropCredentials(req);
    expect(req.rawHeaders).toEqual(['Cookie', 'theme=dark', 'X-Other', 'kept']);
    expect(req.headers).toEqual({ cookie: 'theme=dark', 'x-other': 'kept' });
    const only = new IncomingMessage(new Socket());
    only.rawHeaders = ['cookie', 'sprout_session=s1'];
    only.headers.cookie = 'sprout_session=s1';
    dropCredentials(only);
    expect(only.rawHeaders).toEqual([]);
    expect(only.headers.cookie).toBeUndefined();
  });
});
