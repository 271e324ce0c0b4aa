import { seededRng } from '@sprout/http/testing';
import { describe, expect, it } from 'vitest';
import { BodyDecoder } from './body-decoder.js';
import { ForwardError, ResponseHeadParser } from './response-head.js';

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
});
