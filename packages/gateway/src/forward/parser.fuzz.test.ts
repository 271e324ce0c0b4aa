import { seededRng } from '@sprout/http/testing';
import { describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { responseHeaders } from '../http-util.js';
import { RawResponse } from '../listener/raw-response.js';
import { BodyDecoder } from './body-decoder.js';
import { ForwardError, ResponseHeadParser, type ResponseHead } from './response-head.js';

// The raw forwarding path's parser and body decoder against generated responses: well-formed ones
// (random fields, bodies and framings, split at random points) must come out as they went in;
// mutated and random ones must end in a ForwardError or a partial result, never another exception.
// Seeded (FUZZ_SEED=<n> replays a run).
const rng = seededRng();
const seed = `FUZZ_SEED=${rng.seed}`;
const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const word = (chars: string, n: number) => Array.from({ length: n }, () => rng.pick([...chars])).join('');

/** A random well-formed response: its wire bytes and what a parse must give. */
function generate(): { wire: Buffer; status: number; body: Buffer; fields: number } {
  const status = rng.pick([200, 201, 202, 204, 301, 404, 500, 503]);
  const body = status === 204 ? Buffer.alloc(0) : rng.bytes(rng.int(0, 300));
  const chunked = status !== 204 && rng.next() < 0.5;
  let head = `HTTP/1.1 ${status} ${word('ABCDEFG abc', rng.int(0, 12))}\r\n`;
  const fields = rng.int(0, 12);
  for (let i = 0; i < fields; i++)
    head += `X-${word(TCHAR, rng.int(1, 20))}:${' '.repeat(rng.int(0, 3))}${word('abc =;,"/', rng.int(0, 40)).trim()}\r\n`;
  head += chunked ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${body.length}\r\n\r\n`;
  let payload = body;
  if (chunked) {
    const parts: Buffer[] = [];
    for (let i = 0; i < body.length;) {
      const n = Math.min(body.length - i, rng.int(1, 80));
      parts.push(
        Buffer.from(`${n.toString(16)}${rng.next() < 0.2 ? ';x=y' : ''}\r\n`),
        body.subarray(i, i + n),
        Buffer.from('\r\n'),
      );
      i += n;
    }
    parts.push(Buffer.from(rng.next() < 0.3 ? '0\r\nT: v\r\n\r\n' : '0\r\n\r\n'));
    payload = Buffer.concat(parts);
  }
  return { wire: Buffer.concat([Buffer.from(head, 'latin1'), payload]), status, body, fields: fields + 1 };
}

/** Feeds `wire` split at random points; returns the status, the body and whether it completed. */
function run(wire: Buffer) {
  const parser = new ResponseHeadParser();
  let decoder: BodyDecoder | undefined;
  let status = 0;
  let fields = 0;
  let done = false;
  const out: Buffer[] = [];
  for (let i = 0; i < wire.length && !done;) {
    const n = rng.int(1, 64);
    const piece = wire.subarray(i, i + n);
    i += n;
    if (decoder) done = decoder.push(piece);
    else {
      const r = parser.push(piece);
      if (r) {
        status = r.head.status;
        fields = r.head.rawHeaders.length / 2;
        decoder = new BodyDecoder(r.head.framing, (c) => out.push(Buffer.from(c)));
        done = decoder.push(r.rest) || decoder.done;
      }
    }
  }
  return { status, fields, body: Buffer.concat(out), done };
}

describe('raw forwarding parser under generated responses', () => {
  it('parses well-formed responses split anywhere', () => {
    for (let i = 0; i < 2000; i++) {
      const g = generate();
      const r = run(g.wire);
      expect([r.status, r.fields, r.done], seed).toEqual([g.status, g.fields, true]);
      expect(r.body.equals(g.body), seed).toBe(true);
    }
  });

  it('ends mutated and random responses in a ForwardError or a partial parse, nothing else', () => {
    let refused = 0;
    for (let i = 0; i < 4000; i++) {
      let wire: Buffer;
      if (i % 4 === 0) wire = rng.bytes(rng.int(1, 400));
      else {
        wire = Buffer.from(generate().wire);
        for (let k = rng.int(1, 6); k > 0; k--)
          wire[rng.int(0, wire.length)] = rng.pick([0, 10, 13, 32, 58, 59, 48, 255, rng.int(0, 256)]);
      }
      try {
        run(wire);
      } catch (err) {
        expect(err, `${seed}: ${JSON.stringify(wire.toString('latin1'))}`).toBeInstanceOf(ForwardError);
        refused++;
      }
    }
    expect(refused, seed).toBeGreaterThan(500);
  });

  it('passes a Content-Length head on as bytes exactly as the header-list path writes it', () => {
    const HOP = [
      'Connection',
      'keep-alive',
      'Proxy-Connection',
      'TE',
      'Trailer',
      'Upgrade',
      'HTTP2-Settings',
    ];
    /** What a RawResponse writes for `head` and `body`, through passHead or writeHead. */
    const written = (h: ResponseHead, body: Buffer, pass: boolean, mark?: [string, string]) => {
      const out: Buffer[] = [];
      const socket = {
        write: (b: Buffer | string) =>
          out.push(Buffer.isBuffer(b) ? Buffer.from(b) : Buffer.from(b, 'latin1')),
      };
      const res = new RawResponse(
        { socket: socket as unknown as Socket, finished: () => {} },
        false,
        'Connection: keep-alive\r\nKeep-Alive: timeout=65\r\n',
      );
      if (pass) res.passHead(h.status, h.bytes!, h.fieldsEnd, h.hopLines, h.hasDate, mark);
      else res.writeHead(h.status, h.reason, responseHeaders(h.rawHeaders, mark));
      res.end(body);
      return Buffer.concat(out);
    };
    const parsed = (wire: Buffer) => {
      const r = new ResponseHeadParser().push(wire)!;
      // a Date the writer added is the time of writing: compared by presence only
      const fields = r.head.rawHeaders.map((v, i) =>
        i % 2 === 1 && /^date$/i.test(r.head.rawHeaders[i - 1]!) ? 'D' : v,
      );
      return { status: r.head.status, reason: r.head.reason, fields, rest: r.rest.toString('latin1') };
    };
    for (let i = 0; i < 2000; i++) {
      const status = rng.pick([200, 201, 203, 301, 404, 500, 503]);
      const body = rng.bytes(rng.int(1, 300));
      const lines = [`Content-Length: ${body.length}`];
      if (rng.next() < 0.5) lines.push('Date: Mon, 07 Dec 2026 13:00:00 GMT');
      for (let k = rng.int(0, 10); k > 0; k--) {
        lines.push(
          rng.next() < 0.4
            ? `${rng.pick(HOP)}:${' '.repeat(rng.int(0, 2))}${word('abc=, ', rng.int(0, 12)).trim()}`
            : `X-${word(TCHAR, rng.int(1, 16))}: ${word('abc =;,"/\x80\xff', rng.int(0, 30)).trim()}`,
        );
      }
      for (let k = lines.length - 1; k > 0; k--) {
        const j = rng.int(0, k + 1);
        [lines[k], lines[j]] = [lines[j]!, lines[k]!];
      }
      const version = rng.pick(['1.1', '1.0']);
      const wire = Buffer.from(
        `HTTP/${version} ${status} ${word('ABC abc', rng.int(1, 10)).trim() || 'X'}\r\n${lines.join('\r\n')}\r\n\r\n${body.toString('latin1')}`,
        'latin1',
      );
      // fed split anywhere: the head's bytes come out whole
      const parser = new ResponseHeadParser();
      let h: ResponseHead | undefined;
      for (let at = 0; !h;) {
        const n = rng.int(1, 64);
        h = parser.push(wire.subarray(at, at + n))?.head;
        at += n;
      }
      const mark = rng.pick([undefined, ['x-sprout-cold-start', 'false'] as [string, string]]);
      const a = parsed(written(h, body, true, mark));
      const b = parsed(written(h, body, false, mark));
      expect(a, `${seed}: ${JSON.stringify(wire.toString('latin1'))}`).toEqual(b);
      expect(a.rest, seed).toBe(body.toString('latin1'));
    }
  });
});
