import type { IncomingMessage } from 'node:http';
import { seededRng } from '@sprout/http/testing';
import { describe, expect, it } from 'vitest';
import { forwardHeaders } from '../http-util.js';
import { parseRequestHead, type SimpleRequest } from '../listener/request-parser.js';
import { passedRequestHead, requestHead } from './request-head.js';

// The raw listener's requests go to the instance with their field lines passed on as sent
// (passedRequestHead); every other request's head is built from forwardHeaders' list
// (requestHead). Both must say the same thing to the instance: the same fields, in the same
// order, with the same values once the optional whitespace around them is read away. Seeded
// (FUZZ_SEED=<n> replays a run).
const rng = seededRng();
const seed = `FUZZ_SEED=${rng.seed}`;
const word = (chars: string, n: number) => Array.from({ length: n }, () => rng.pick([...chars])).join('');
const anyCase = (s: string) => [...s].map((c) => (rng.next() < 0.5 ? c.toUpperCase() : c)).join('');

/** Hop-by-hop fields a simple request may carry, and fields a proxy adds to. */
const SPICE: (() => [string, string])[] = [
  () => ['Connection', rng.pick(['keep-alive', 'Keep-Alive', ' keep-alive , te', 'te, trailer'])],
  () => ['Keep-Alive', 'timeout=5'],
  () => ['Proxy-Connection', 'keep-alive'],
  () => ['TE', 'trailers'],
  () => ['Trailer', 'x-sum'],
  () => ['X-Forwarded-Proto', 'https'],
  () => ['X-Forwarded-Host', 'outer.example'],
  () => ['X-Forwarded-For', '10.0.0.1'],
  () => ['Connection', 'keep-alive, x-drop-me'],
  () => ['X-Drop-Me', 'secret'],
];

function wire(): Buffer {
  const fields: [string, string][] = [[anyCase('host'), `h${rng.int(0, 9)}.example`]];
  for (let i = rng.int(0, 10); i > 0; i--) {
    if (rng.next() < 0.5) fields.push(rng.pick(SPICE)());
    else fields.push([`X-${word('abcxyz-', rng.int(1, 12))}`, word('abc =;,"/\t', rng.int(0, 30)).trim()]);
  }
  fields.sort(() => rng.next() - 0.5);
  let head = `${rng.pick(['GET', 'HEAD', 'DELETE', 'OPTIONS'])} /${word('abc/?=&', rng.int(0, 20))} HTTP/1.1`;
  for (const [k, v] of fields)
    head += `\r\n${anyCase(k)}:${' '.repeat(rng.int(0, 2))}${v}${rng.next() < 0.3 ? '\t ' : ''}`;
  return Buffer.from(head + '\r\n\r\n', 'latin1');
}

/** A head's request line and its fields with the whitespace around each value read away. */
function reading(head: string): string[] {
  const [line, ...fields] = head.slice(0, head.indexOf('\r\n\r\n')).split('\r\n');
  return [
    line!,
    ...fields.map((f) => `${f.slice(0, f.indexOf(':'))}: ${f.slice(f.indexOf(':') + 1).trim()}`),
  ];
}

describe('request heads passed on as sent', () => {
  it('say what the head built from forwardHeaders says, hop-by-hop fields left out', () => {
    let passed = 0;
    let dropsNamed = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = wire();
      const r = parseRequestHead(bytes, 0, 16 * 1024);
      if (typeof r !== 'object') continue; // a repeated field: node:http takes those
      const req = { method: r.method, rawHeaders: r.rawHeaders, socket: { remoteAddress: '127.0.0.7' } };
      const built = requestHead(r.method, r.url, forwardHeaders(req as unknown as IncomingMessage, false))!;
      if (r.forwardFields === undefined) {
        // a Connection header names other fields to drop: the built head is used
        expect(r.headers.connection, seed).toMatch(/x-drop-me/i);
        dropsNamed++;
        continue;
      }
      const head = passedRequestHead(r.method, r.url, r.forwardFields, r.headers, '127.0.0.7')!;
      expect(reading(head), `${seed} ${JSON.stringify(bytes.toString('latin1'))}`).toEqual(reading(built));
      expect(head, seed).not.toMatch(/\r\n(connection|keep-alive|proxy-connection|te|trailer):/i);
      passed++;
    }
    expect(passed, seed).toBeGreaterThan(500);
    expect(dropsNamed, seed).toBeGreaterThan(20);
  });

  it('keeps the field lines byte for byte, whitespace included', () => {
    const r = parseRequestHead(
      Buffer.from(
        'GET /a?b HTTP/1.1\r\nHost:  a.example \r\nConnection: keep-alive\r\nX-A:\t1\r\n\r\n',
        'latin1',
      ),
      0,
      1024,
    ) as SimpleRequest;
    expect(r.forwardFields).toBe('\r\nHost:  a.example \r\nX-A:\t1');
    expect(passedRequestHead('GET', '/b', r.forwardFields!, r.headers, '::1')).toBe(
      'GET /b HTTP/1.1\r\nHost:  a.example \r\nX-A:\t1\r\nx-forwarded-for: ::1\r\n' +
        'x-forwarded-proto: http\r\nx-forwarded-host: a.example\r\n\r\n',
    );
    expect(passedRequestHead('GET', '/b c', r.forwardFields!, r.headers, '::1')).toBeUndefined();
  });
});
