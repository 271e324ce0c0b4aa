import { createServer } from 'node:http';
import { connect } from 'node:net';
import { listen, seededRng } from '@sprout/http/testing';
import { describe, expect, it } from 'vitest';
import { MORE, OTHER, parseRequestHead, type ParseResult, type SimpleRequest } from './request-parser.js';

// The raw listener's request-head parser against generated heads: well-formed simple ones, fed as
// they would arrive (growing a few bytes at a time), must come out as they went in with what
// follows them untouched; mutated and random bytes must give MORE, OTHER or a simple request that
// keeps the parser's promises, never an exception. Seeded (FUZZ_SEED=<n> replays a run).
const rng = seededRng();
const seed = `FUZZ_SEED=${rng.seed}`;
const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const word = (chars: string, n: number) => Array.from({ length: n }, () => rng.pick([...chars])).join('');
const MAX = 16 * 1024;

function generate(): { wire: Buffer; method: string; url: string; fields: [string, string][] } {
  const method = rng.pick(['GET', 'HEAD', 'DELETE', 'OPTIONS']);
  const url = '/' + word('abc/%?=&.~-_0123456789', rng.int(0, 40));
  const fields: [string, string][] = [['Host', `h${rng.int(0, 9)}.example:${rng.int(1, 65535)}`]];
  const n = rng.int(0, 12);
  for (let i = 0; i < n; i++)
    fields.push([`X-${i}-${word(TCHAR, rng.int(1, 20))}`, word('abc =;,"/\t', rng.int(0, 40)).trim()]);
  if (rng.next() < 0.3) fields.push(['Connection', 'keep-alive']);
  if (rng.next() < 0.2) fields.push(['Content-Length', '0']);
  let head = `${method} ${url} HTTP/1.1\r\n`;
  for (const [k, v] of fields)
    head += `${k}:${' '.repeat(rng.int(0, 2))}${v}${rng.next() < 0.2 ? ' ' : ''}\r\n`;
  return { wire: Buffer.from(head + '\r\n', 'latin1'), method, url, fields };
}

/** A generated head with a few bytes changed (or none): the parser's hardest inputs. */
function mutated(): Buffer {
  let wire = Buffer.from(generate().wire);
  for (let k = rng.int(0, 3); k > 0; k--) {
    const at = rng.int(0, wire.length - 1);
    const op = rng.int(0, 2);
    if (op === 0) wire[at] = rng.int(0, 255);
    else if (op === 1) wire[at] = rng.pick([0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x00, 0x7f, 0xff]);
    else wire = Buffer.concat([wire.subarray(0, at), wire.subarray(at + 1)]);
  }
  return wire;
}

/** Feeds `wire` growing by random steps, as the listener does; the first result that is not MORE. */
function feed(wire: Buffer): ParseResult {
  let searched = 0;
  for (let len = 0; len < wire.length;) {
    len = Math.min(wire.length, len + rng.int(1, 64));
    const r = parseRequestHead(wire.subarray(0, len), searched, MAX);
    if (r !== MORE) return r;
    searched = len;
  }
  return MORE;
}

/** What a simple request promises the listener whatever bytes it came from. */
function checkPromises(r: SimpleRequest, wire: Buffer): void {
  expect(['GET', 'HEAD', 'DELETE', 'OPTIONS'], seed).toContain(r.method);
  expect(r.url, seed).toMatch(/^\/[\x21-\x7e]*$/);
  expect(r.size, seed).toBeLessThanOrEqual(wire.length);
  expect(wire.toString('latin1', r.size - 4, r.size), seed).toBe('\r\n\r\n');
  expect(r.headers.host, seed).toBeDefined();
  expect(r.headers['transfer-encoding'], seed).toBeUndefined();
  expect(r.headers.upgrade, seed).toBeUndefined();
  expect(r.headers['content-length'] ?? '0', seed).toBe('0');
  for (const v of r.rawHeaders) expect(v, seed).not.toMatch(/[\r\n\0]/);
}

describe('request-head parser', () => {
  it('parses well-formed simple heads split anywhere, leaving what follows', () => {
    for (let i = 0; i < 2000; i++) {
      const g = generate();
      const next = rng.next() < 0.3 ? Buffer.from('GET /next HTTP/1.1\r\n') : Buffer.alloc(0);
      const r = feed(Buffer.concat([g.wire, next]));
      expect(typeof r, seed).toBe('object');
      const s = r as SimpleRequest;
      expect(s.method, seed).toBe(g.method);
      expect(s.url, seed).toBe(g.url);
      expect(s.size, seed).toBe(g.wire.length);
      expect(s.rawHeaders, seed).toEqual(g.fields.flat());
      for (const [k, v] of g.fields) expect(s.headers[k.toLowerCase()], seed).toBe(v);
    }
  });

  it('gives MORE, OTHER or a request keeping its promises on mutated and random bytes, never throws', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6000; i++) {
      let wire: Buffer;
      if (i % 3 === 0) wire = rng.bytes(rng.int(0, 400));
      else {
        wire = mutated();
        if (i % 3 === 1) wire = Buffer.concat([wire, Buffer.from('Content-Length: 5\r\n\r\nhello')]);
      }
      const r = feed(wire);
      seen.add(r === MORE ? 'more' : r === OTHER ? 'other' : 'simple');
      if (typeof r === 'object') checkPromises(r, wire);
    }
    expect([...seen].sort(), seed).toEqual(['more', 'other', 'simple']);
  });

  it('says OTHER for what node:http must take, and MORE until the head is complete', () => {
    const head = (s: string) => parseRequestHead(Buffer.from(s, 'latin1'), 0, MAX);
    for (const s of [
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
      'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      'GET / HTTP/1.0\r\nHost: a\r\n\r\n',
      'GET / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n',
      'GET / HTTP/1.1\r\nHost : a\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n',
      'GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n',
      'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
      `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(MAX)}\r\n\r\n`,
    ])
      expect(head(s), JSON.stringify(s.slice(0, 80))).toBe(OTHER);
    expect(head('GET / HTTP/1.1\r\nHost: a\r\n')).toBe(MORE);
    expect(head(`GET / HTTP/1.1\r\nX: ${'a'.repeat(MAX)}`)).toBe(OTHER);
  });

  it('reads names such as __proto__ and constructor as headers like any other, inheriting nothing', () => {
    const r = parseRequestHead(
      Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n__proto__: x\r\nConstructor: y\r\n\r\n', 'latin1'),
      0,
      MAX,
    ) as SimpleRequest;
    expect(Object.keys(r.headers)).toEqual(['host', '__proto__', 'constructor']);
    expect([r.headers.__proto__, r.headers.constructor]).toEqual(['x', 'y']);
    expect('toString' in r.headers).toBe(false);
    // a name the map would inherit is not taken for a header the request has
    const noHost = parseRequestHead(Buffer.from('GET / HTTP/1.1\r\nX: 1\r\n\r\n', 'latin1'), 0, MAX);
    expect(noHost).toBe(OTHER);
    const dup = 'GET / HTTP/1.1\r\nHost: a\r\nconstructor: 1\r\nconstructor: 2\r\n\r\n';
    expect(parseRequestHead(Buffer.from(dup, 'latin1'), 0, MAX)).toBe(OTHER);
  });

  it('accepts only what node:http reads the same way (method, target, fields)', async () => {
    // the reading goes back in a header, so HEAD requests are compared too
    const srv = createServer((req, res) => {
      const echo = JSON.stringify({ method: req.method, url: req.url, raw: req.rawHeaders });
      res.writeHead(200, { 'x-echo': Buffer.from(echo).toString('base64'), 'content-length': 0 }).end();
    });
    const port = await listen(srv);
    /** node:http's reading of `wire`: its echo, or the status line of its refusal. */
    const nodeReads = (wire: Buffer) =>
      new Promise<string>((resolve, reject) => {
        let out = '';
        const c = connect(port, '127.0.0.1', () => c.write(wire));
        c.on('data', (d: Buffer) => {
          out += d.toString('latin1');
          if (!out.includes('\r\n\r\n')) return;
          c.destroy();
          const echo = /\r\nx-echo: ([^\r]*)/i.exec(out);
          resolve(echo ? Buffer.from(echo[1]!, 'base64').toString() : out.split('\r\n')[0]!);
        });
        c.on('error', reject);
        c.on('close', () => resolve(out.split('\r\n')[0]!));
      });
    try {
      let compared = 0;
      for (let i = 0; i < 400; i++) {
        const wire = mutated();
        const r = parseRequestHead(wire, 0, MAX);
        if (typeof r !== 'object') continue;
        compared++;
        const expected = JSON.stringify({ method: r.method, url: r.url, raw: r.rawHeaders });
        expect(
          await nodeReads(wire.subarray(0, r.size)),
          `${seed}: ${JSON.stringify(wire.toString('latin1'))}`,
        ).toBe(expected);
      }
      expect(compared, seed).toBeGreaterThan(50);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
});
