import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Rng } from './rng.js';

/** Paths that are not valid percent-encoded UTF-8, or that try to climb out of a folder once decoded. */
const BAD_PATHS = [
  '/%',
  '/%zz',
  '/%00',
  '/a%00b',
  '/%C0%AF', // overlong '/'
  '/%E0%80%AF', // overlong '/', three bytes
  '/%ED%A0%80', // a UTF-16 surrogate
  '/%FF%FE',
  '/%F4%90%80%80', // past U+10FFFF
  '/..%2F..%2Fescaped',
  '/%2E%2E/%2e%2e/x',
  '/..\\..\\x',
  '//etc/passwd',
  '//[', // no URL parser takes this as an authority
  '//a b/x',
  '*',
  'http://[::1/x',
  '/%%32%46',
  '/%u002F',
  '/' + '%41'.repeat(3000),
];

const METHODS = ['POST', 'GET', 'PUT', 'PRI', 'OPTIONS', 'P0ST', '', 'POST POST', 'DELETE', 'CONNECT'];
const TYPES = [
  'application/json',
  'application/x-protobuf',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/json; charset=utf-8',
  '',
  'application/+json',
];

/** A body generator: JSON-ish, protobuf-ish, gzip of garbage, garbage. */
function body(rng: Rng, good: Buffer): Buffer {
  switch (rng.int(0, 7)) {
    case 0:
      return good;
    case 1:
      return rng.bytes(rng.int(0, 400));
    case 2:
      return Buffer.from('['.repeat(rng.int(1, 20_000)));
    case 3:
      return gzipSync(rng.bytes(rng.int(0, 200)));
    case 4: {
      const b = Buffer.from(good);
      for (let i = 0; i < 3 && b.length; i++) b[rng.int(0, b.length)] = rng.int(0, 256);
      return b;
    }
    case 5:
      return Buffer.from('{"__proto__":{"polluted":1},"s":"\\u0000\\ud800","n":1e999}');
    default:
      return Buffer.from('{"a":' + '1'.repeat(rng.int(1, 50)) + ',');
  }
}

/** What a server under fuzz serves, so that part of the hostile requests get past its first checks. */
export interface FuzzTarget {
  /** Paths it serves (mixed with paths that are not valid percent-encoding or climb out). */
  paths: readonly string[];
  /** A body it would accept (mutated, cut, or replaced by garbage). */
  good: Buffer;
  /** Header lines most requests carry (a token, say); `host: 127.0.0.1` is always sent. */
  headers?: readonly string[];
  /** Methods to use most of the time; POST by default. */
  methods?: readonly string[];
}

/**
 * One hostile HTTP/1 request, as the pieces to write: malformed request lines, bad percent-encodings,
 * odd headers (huge, many, duplicated or contradictory framing) and truncated or garbage bodies.
 */
function hostileRequest(rng: Rng, target: FuzzTarget): Buffer[] {
  const { paths, good } = target;
  const path = rng.next() < 0.5 ? rng.pick(paths) : rng.pick(BAD_PATHS) + (rng.next() < 0.2 ? '?q=%' : '');
  const method = rng.next() < 0.8 ? rng.pick(target.methods ?? ['POST']) : rng.pick(METHODS);
  const version =
    rng.next() < 0.9 ? 'HTTP/1.1' : rng.pick(['HTTP/1.0', 'HTTP/9.9', 'HTTP/1', '', 'HTTQ/1.1']);
  const b = body(rng, good);
  const headers: string[] = [
    rng.next() < 0.9 ? 'host: 127.0.0.1' : rng.pick(['host: x', 'host:', 'host: [::1']),
  ];
  if (target.headers && rng.next() < 0.8) headers.push(...target.headers);
  if (rng.next() < 0.8) headers.push(`content-type: ${rng.pick(TYPES)}`);
  if (rng.next() < 0.15)
    headers.push(`content-encoding: ${rng.pick(['gzip', 'deflate', 'br', 'gzip, gzip'])}`);
  let payload = b;
  switch (rng.int(0, 9)) {
    case 0: // two different content-lengths
      headers.push(`content-length: ${b.length}`, `content-length: ${b.length + 1}`);
      break;
    case 1: // a length that is no number, or far too large
      headers.push(`content-length: ${rng.pick(['-1', 'abc', '1e3', '99999999999999', ' 5', '0x10'])}`);
      break;
    case 2: // bad or contradictory transfer-encodings
      headers.push(
        `transfer-encoding: ${rng.pick(['bogus', 'chunked, identity', 'gzip', 'chunked, chunked'])}`,
      );
      if (rng.next() < 0.5) headers.push(`content-length: ${b.length}`);
      break;
    case 3: {
      // chunked with a broken or missing framing
      headers.push('transfer-encoding: chunked');
      const size = rng.pick([b.length.toString(16), 'zz', '-1', 'ffffffffffffffff', '']);
      payload = Buffer.concat([
        Buffer.from(`${size}\r\n`),
        b,
        Buffer.from(rng.next() < 0.5 ? '\r\n0\r\n\r\n' : '\r\n'),
      ]);
      break;
    }
    case 4: // a declared length the body never reaches (truncated)
      headers.push(`content-length: ${b.length + rng.int(1, 1000)}`);
      break;
    case 5: // a huge header
      headers.push(`x-big: ${'a'.repeat(rng.int(8_000, 100_000))}`, `content-length: ${b.length}`);
      break;
    case 6: // many headers, a header without a colon, a folded one, a NUL
      for (let i = rng.int(0, 300); i > 0; i--) headers.push(`x-${i}: v`);
      headers.push(rng.pick(['no colon here', ' folded: line', 'x-nul: a\u0000b', 'bad name: v']));
      headers.push(`content-length: ${b.length}`);
      break;
    default:
      headers.push(`content-length: ${b.length}`);
  }
  const line =
    rng.next() < 0.1
      ? rng.pick([
          '\r\n',
          'GARBAGE\r\n',
          `${method}\r\n`,
          rng.bytes(rng.int(1, 80)).toString('latin1') + '\r\n',
        ])
      : `${method} ${path} ${version}\r\n`;
  const eol = rng.next() < 0.05 ? '\n' : '\r\n';
  let head = Buffer.from(line + headers.join(eol) + eol + eol, 'latin1');
  if (rng.next() < 0.05) head = head.subarray(0, rng.int(1, head.length)); // cut inside the head
  const whole = Buffer.concat([head, payload]);
  // Sent whole or split at random points.
  const pieces: Buffer[] = [];
  let at = 0;
  while (at < whole.length) {
    const n = rng.next() < 0.7 ? whole.length - at : rng.int(1, whole.length - at + 1);
    pieces.push(whole.subarray(at, at + n));
    at += n;
  }
  return pieces;
}

/** One response read back: its status, lower-cased header block and what its connection sent. */
export interface FuzzAnswer {
  status: number;
  headers: string;
  /** The bytes the connection sent (latin1, JSON-escaped by a failing test's message; long ones cut). */
  sent?: string;
}

/** The status lines and headers of every response in `bytes` (a connection may carry several). */
function responsesIn(bytes: Buffer): FuzzAnswer[] {
  const text = bytes.toString('latin1');
  const out: FuzzAnswer[] = [];
  for (const m of text.matchAll(/HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n((?:[^\r\n]+\r\n)*)\r\n/g))
    out.push({ status: Number(m[1]), headers: m[2]!.toLowerCase() });
  return out;
}

/**
 * Writes `pieces` on a fresh connection (sometimes leaving it open, sometimes ending or resetting it
 * early) and resolves with whatever came back. It waits for the server, not for a clock: it resolves
 * when the server closes the connection, or shortly after a whole response head arrived (a second
 * response on the same connection may follow), and gives up only after `waitMs` (a request left
 * incomplete on purpose gets no answer). A short fixed wait lost answers on a loaded machine.
 */
function sendRaw(port: number, pieces: Buffer[], rng: Rng, waitMs = 5000): Promise<Buffer> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const s = connect(port, '127.0.0.1');
    let settle: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      clearTimeout(settle);
      s.destroy();
      resolve(Buffer.concat(got));
    };
    const timer = setTimeout(done, waitMs);
    s.on('data', (c: Buffer) => {
      got.push(c);
      if (!settle && responsesIn(Buffer.concat(got)).length > 0) settle = setTimeout(done, 200);
    });
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => {
      const ending = rng.int(0, 10);
      for (const p of pieces) if (!s.destroyed) s.write(p);
      if (ending === 0) s.resetAndDestroy();
      else if (ending < 4) s.end();
    });
  });
}

/** How much of a request is kept beside its answers (the head, where refusals are decided). */
const SENT_SHOWN = 600;

/** What a fuzz run sent and got back. */
export interface FuzzResult {
  /** Requests sent. */
  sent: number;
  /** Every response read back (status, lower-cased header block, what its connection sent). */
  seen: FuzzAnswer[];
}

/**
 * Sends hostile HTTP/1 requests (see hostileRequest) to `port` on 127.0.0.1 from `workers`
 * connections at a time (10), for `ms` and at least `min` requests (so a slow machine sends as many
 * as a fast one). Each connection waits for the server's answer (see sendRaw), not for a clock.
 */
export async function fuzzHttpServer(
  port: number,
  target: FuzzTarget,
  o: { rng: Rng; ms: number; min: number; workers?: number },
): Promise<FuzzResult> {
  const seen: FuzzResult['seen'] = [];
  let sent = 0;
  const end = Date.now() + o.ms;
  const worker = async () => {
    while (sent < o.min || Date.now() < end) {
      sent++;
      const pieces = hostileRequest(o.rng, target);
      const back = responsesIn(await sendRaw(port, pieces, o.rng));
      // What was sent goes with each answer, so a failing assertion shows the request to replay.
      if (back.length) {
        const sent = Buffer.concat(pieces);
        const text = sent.subarray(0, SENT_SHOWN).toString('latin1');
        const shown = sent.length > SENT_SHOWN ? `${text}… (${sent.length} bytes)` : text;
        for (const a of back) a.sent = shown;
      }
      seen.push(...back);
    }
  };
  await Promise.all(Array.from({ length: o.workers ?? 10 }, worker));
  return { sent, seen };
}

/** What a fuzz run's answers show, for a test to hold a server to. */
export interface FuzzFindings {
  /** Answers 500 and over: something went wrong inside the server (or a 503 it had no reason for). */
  serverErrors: FuzzResult['seen'];
  /** Refusals (400 and over) without a code header matching `coded`. */
  uncoded: FuzzResult['seen'];
  /** Every status seen. */
  statuses: Set<number>;
  /** Answers read per request sent (requests left incomplete or reset on purpose get none). */
  answeredShare: number;
}

/** Sorts a fuzz run's answers into what a test asserts on; `coded` matches a refusal's code header. */
export function fuzzFindings(r: FuzzResult, coded = /x-sprout-error-code: sprout_err_/): FuzzFindings {
  return {
    serverErrors: r.seen.filter((x) => x.status >= 500),
    uncoded: r.seen.filter((x) => x.status >= 400 && !coded.test(x.headers)),
    statuses: new Set(r.seen.map((x) => x.status)),
    answeredShare: r.sent ? r.seen.length / r.sent : 0,
  };
}
