import { describe, expect, it } from 'vitest';
import { BodyDecoder } from './body-decoder.js';
import { ForwardError, ResponseHeadParser, type Framing } from './response-head.js';

/** Parses `text` fed in pieces split at `cuts`; returns the head and the bytes after it. */
function parse(text: string | Buffer, cuts: number[] = []) {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  const p = new ResponseHeadParser();
  let from = 0;
  for (const at of [...cuts, buf.length]) {
    const r = p.push(buf.subarray(from, at));
    from = at;
    if (r) return { head: r.head, rest: Buffer.concat([r.rest, buf.subarray(from)]) };
  }
  return undefined;
}

/** Decodes a body fed in pieces split at `cuts`; returns the payload and whether it completed. */
function decode(framing: Framing, wire: string, cuts: number[] = []) {
  const out: Buffer[] = [];
  const d = new BodyDecoder(framing, (c) => out.push(Buffer.from(c)));
  const buf = Buffer.from(wire, 'latin1');
  let from = 0;
  let done = false;
  for (const at of [...cuts, buf.length]) {
    done = d.push(buf.subarray(from, at));
    from = at;
  }
  return { body: Buffer.concat(out).toString('latin1'), done };
}

describe('response head parser', () => {
  const text =
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A:  spaced value \r\nContent-Length: 5\r\n\r\nhello';

  it('gives the status, raw headers and framing, at every split point', () => {
    for (let cut = 0; cut <= text.length; cut++) {
      const r = parse(text, [cut])!;
      expect(r.head.status).toBe(200);
      expect(r.head.reason).toBe('OK');
      expect(r.head.rawHeaders).toEqual([
        'Content-Type',
        'text/plain',
        'X-A',
        'spaced value',
        'Content-Length',
        '5',
      ]);
      expect(r.head.framing).toEqual({ kind: 'length', length: 5 });
      expect(r.head.close).toBe(false);
      expect(r.rest.toString()).toBe('hello');
    }
  });

  it('waits for the blank line', () => {
    expect(parse('HTTP/1.1 200 OK\r\nA: b\r\n')).toBeUndefined();
  });

  it.each([
    ['HTTP/1.1 204 No Content\r\n\r\n', { kind: 'none' }],
    ['HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', { kind: 'none' }],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', { kind: 'chunked' }],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', { kind: 'chunked' }],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', { kind: 'close' }],
    ['HTTP/1.1 200 OK\r\n\r\n', { kind: 'close' }],
    ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { kind: 'none' }],
    ['HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n', { kind: 'length', length: 7 }],
    ['HTTP/1.1 200\r\nContent-Length: 3\r\n\r\n', { kind: 'length', length: 3 }],
  ])('frames %j as %j', (head, framing) => {
    expect(parse(head)!.head.framing).toEqual(framing);
  });

  it('knows when the instance closes the connection', () => {
    expect(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')!.head.close).toBe(true);
    expect(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')!.head.close).toBe(true);
    expect(parse('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n')!.head.close).toBe(
      false,
    );
  });

  it.each([
    'HTTP/2 200 OK\r\n\r\n',
    'HTTP/1.1 99 Low\r\n\r\n',
    'HTTP/1.1 200 OK\r\n folded\r\n\r\n',
    'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nName : x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nNoColon\r\n\r\n',
    'HTTP/1.1 200 OK\r\nA: x\x00y\r\n\r\n',
    'HTTP/1.1 200 OK\r\nA: x\ny\r\n\r\n',
    // control characters at a value's ends are not whitespace to trim: refused like any other
    'HTTP/1.1 200 OK\r\nA: \x0bx\r\n\r\n',
    'HTTP/1.1 200 OK\r\nA: x\r\r\n\r\n',
    'HTTP/1.1 200 OK\r\nA: x\x7f\r\n\r\n',
    'HTTP/1.1 200 OK\r\n: x\r\n\r\n',
    'HTTP/1.1 200 OK\nA: x\r\n\r\n',
    'HTTP/1.1 200OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
  ])('refuses %j', (head) => {
    expect(() => parse(head)).toThrow(ForwardError);
  });

  it('trims only SP and HTAB around a value: obs-text at its ends stays', () => {
    const h = parse('HTTP/1.1 200 \xa0OK\xa0\r\nA: \t\xa0x\xa0 \r\nB:\r\n\r\n')!.head;
    expect(h.reason).toBe('\xa0OK\xa0');
    expect(h.rawHeaders).toEqual(['A', '\xa0x\xa0', 'B', '']);
  });

  it('refuses a head over the size and field limits', () => {
    const p = new ResponseHeadParser({ maxHeadBytes: 100, maxHeaders: 3 });
    expect(() => p.push(Buffer.from(`HTTP/1.1 200 OK\r\nA: ${'x'.repeat(200)}`))).toThrow(/over 100 bytes/);
    const q = new ResponseHeadParser({ maxHeadBytes: 1000, maxHeaders: 3 });
    expect(() => q.push(Buffer.from('HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n'))).toThrow(
      /more than 3/,
    );
  });
});

describe('body decoder', () => {
  const wire = '5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n';

  it('decodes chunked bodies at every split point', () => {
    for (let a = 0; a <= wire.length; a++) {
      for (const b of [a, Math.min(wire.length, a + 3)]) {
        expect(decode({ kind: 'chunked' }, wire, [a, b])).toEqual({ body: 'hello 0123456789', done: true });
      }
    }
  });

  it('counts a Content-Length body and runs a close-delimited one', () => {
    expect(decode({ kind: 'length', length: 5 }, 'hello', [2])).toEqual({ body: 'hello', done: true });
    expect(decode({ kind: 'length', length: 5 }, 'hel')).toEqual({ body: 'hel', done: false });
    expect(decode({ kind: 'close' }, 'anything', [3])).toEqual({ body: 'anything', done: false });
  });

  it.each([
    [{ kind: 'length', length: 2 }, 'abc'],
    [{ kind: 'none' }, 'x'],
    [{ kind: 'chunked' }, 'zz\r\n'],
    [{ kind: 'chunked' }, '2\r\nabc\r\n'],
    [{ kind: 'chunked' }, '2\nab\r\n'],
    [{ kind: 'chunked' }, '0\r\n\r\nextra'],
    [{ kind: 'chunked' }, `${'1'.repeat(13)}\r\n`],
    [{ kind: 'chunked' }, `1;${'x'.repeat(5000)}`],
  ] as [Framing, string][])('refuses %j %j', (framing, wire) => {
    expect(() => decode(framing, wire)).toThrow(ForwardError);
  });
});
