import { randomInt } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { mutate, noise, splitRandomly, timeBox } from '../../test/fuzz.js';
import { forwardMessage } from '../outputs/forward.js';
import { EventTime, ForwardError } from './codec.js';
import { MsgpackFramer } from './framer.js';
import { encodeHelo, encodePing, encodePong, parseHelo, parsePing, parsePong } from './handshake.js';
import { decodeForward, encodeForward, type ForwardMessage } from './message.js';

const T = 1_700_000_000n * 1_000_000_000n;
const et = (sec: number, nsec: number) => new EventTime(sec, nsec);
const stream = (...entries: unknown[]) => Buffer.concat(entries.map((e) => encodeForward(e)));

/** Frames a byte stream and decodes every message; errors are returned, not thrown. */
function run(bytes: Buffer[], max = 1 << 20): { messages: ForwardMessage[]; errors: ForwardError[] } {
  const framer = new MsgpackFramer(max);
  const messages: ForwardMessage[] = [];
  const errors: ForwardError[] = [];
  for (const b of bytes) {
    let frames: Buffer[];
    try {
      frames = framer.push(b);
    } catch (err) {
      if (!(err instanceof ForwardError)) throw err;
      errors.push(err);
      break;
    }
    for (const f of frames) {
      try {
        messages.push(decodeForward(f, 10 * max));
      } catch (err) {
        if (!(err instanceof ForwardError)) throw err;
        errors.push(err);
      }
    }
  }
  return { messages, errors };
}

const fixtures: Array<
  [string, unknown, Omit<ForwardMessage, 'events'> & { events: Array<[bigint, object]> }]
> = [
  [
    'Message, integer seconds',
    ['app', 1_700_000_000, { a: 1 }],
    { mode: 'Message', tag: 'app', events: [[T, { a: 1 }]] },
  ],
  [
    'Message, EventTime and chunk',
    ['app', et(1_700_000_000, 5), { a: 'x' }, { chunk: 'abc' }],
    { mode: 'Message', tag: 'app', events: [[T + 5n, { a: 'x' }]], chunk: 'abc' },
  ],
  [
    'Message, float seconds',
    ['app', 1_700_000_000.25, {}],
    { mode: 'Message', tag: 'app', events: [[T + 250_000_000n, {}]] },
  ],
  [
    'Forward with size option',
    [
      'fw',
      [
        [et(1_700_000_000, 1), { n: 1 }],
        [1_700_000_000, { n: 2, deep: { list: [1, 'two', null] } }],
      ],
      { size: 2 },
    ],
    {
      mode: 'Forward',
      tag: 'fw',
      events: [
        [T + 1n, { n: 1 }],
        [T, { n: 2, deep: { list: [1, 'two', null] } }],
      ],
    },
  ],
  [
    "Forward, fluent-bit's [[time, metadata], record] entries",
    ['fw', [[[et(1_700_000_000, 9), {}], { m: true }]]],
    { mode: 'Forward', tag: 'fw', events: [[T + 9n, { m: true }]] },
  ],
  [
    'PackedForward (bin)',
    ['pf', stream([et(1_700_000_000, 2), { p: 1 }], [et(1_700_000_000, 3), { p: 2 }]), { chunk: 'k' }],
    {
      mode: 'PackedForward',
      tag: 'pf',
      chunk: 'k',
      events: [
        [T + 2n, { p: 1 }],
        [T + 3n, { p: 2 }],
      ],
    },
  ],
  [
    'CompressedPackedForward (two gzip members)',
    [
      'cpf',
      Buffer.concat([
        gzipSync(stream([1_700_000_000, { c: 1 }])),
        gzipSync(stream([1_700_000_000, { c: 2 }])),
      ]),
      { compressed: 'gzip', size: 2 },
    ],
    {
      mode: 'CompressedPackedForward',
      tag: 'cpf',
      events: [
        [T, { c: 1 }],
        [T, { c: 2 }],
      ],
    },
  ],
  [
    'binary record values become text',
    ['bin', 1_700_000_000, { raw: Buffer.from('héllo') }],
    { mode: 'Message', tag: 'bin', events: [[T, { raw: 'héllo' }]] },
  ],
];

describe('forward protocol decoder', () => {
  it.each(fixtures)('%s', (_name, message, want) => {
    const got = decodeForward(encodeForward(message), 1 << 20);
    expect({ ...got, events: got.events.map((e) => [e.time, e.record]) }).toEqual(want);
  });

  it.each([
    ['not an array', { a: 1 }, 'decode'],
    ['tag not a string', [1, 1, {}], 'decode'],
    ['time a string', ['t', 'now', {}], 'decode'],
    ['negative time', ['t', -1, {}], 'decode'],
    ['record not a map', ['t', 1, [1, 2]], 'decode'],
    ['Message without record', ['t', 1], 'decode'],
    ['entry not an array', ['t', [1]], 'decode'],
    ['entry record missing', ['t', [[1]]], 'decode'],
    ['unknown compression', ['t', Buffer.from([0x90]), { compressed: 'zstd' }], 'decode'],
    ['gzip flag on plain bytes', ['t', Buffer.from('nope'), { compressed: 'gzip' }], 'decode'],
    ['packed stream of garbage', ['t', Buffer.from([0xc1, 0xc1])], 'decode'],
    ['option not a map', ['t', [], 'opt'], 'decode'],
    ['chunk not a string', ['t', 1, {}, { chunk: 5 }], 'decode'],
    ['EventTime of 4 bytes', null, 'decode'],
    ['handshake PING', ['PING', 'host', 'salt', 'digest', '', ''], 'protocol'],
  ])('refuses %s', (_name, message, reason) => {
    // ext 0 with 4 bytes: fixext4 type 0.
    const bytes =
      message === null ? Buffer.from([0x93, 0xa1, 0x74, 0xd6, 0x00, 0, 0, 0, 1, 0x80]) : encode(message);
    let err: unknown;
    try {
      decodeForward(bytes, 1 << 20);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ForwardError);
    expect((err as ForwardError).reason).toBe(reason);
  });

  it('refuses an inflated stream over the limit as too_large', () => {
    const big = gzipSync(stream([1, { x: 'y'.repeat(100_000) }]));
    expect(() => decodeForward(encode(['t', big, { compressed: 'gzip' }]), 10_000)).toThrow(/exceeds/);
  });

  it('output messages decode back to the records (Forward, CompressedPackedForward, integer time)', () => {
    const records = [
      { tag: 'a', time: T + 123n, body: { i: 1 } },
      { tag: 'a', time: T + 456n, body: { i: 2, big: 2n ** 60n } },
    ];
    for (const o of [
      { time_as_integer: false, send_options: false },
      { time_as_integer: false, send_options: true, compress: 'gzip' as const },
      { time_as_integer: true, send_options: true },
    ]) {
      const opts = {
        host: '',
        port: 0,
        self_hostname: '',
        empty_shared_key: false,
        require_ack_response: true,
        ...o,
      };
      const m = decodeForward(forwardMessage('a', records, opts, 'id1'), 1 << 20);
      expect(m.chunk).toBe('id1');
      expect(m.mode).toBe(o.compress ? 'CompressedPackedForward' : 'Forward');
      expect(m.events.map((e) => e.time)).toEqual(o.time_as_integer ? [T, T] : [T + 123n, T + 456n]);
      expect(m.events.map((e) => e.record)).toEqual([{ i: 1 }, { i: 2, big: 2 ** 60 }]);
    }
  });
});

describe('forward framing', () => {
  const valid = Buffer.concat(fixtures.map(([, m]) => Buffer.from(encodeForward(m))));

  it('any split of a valid stream yields the same messages, no errors', () => {
    const whole = run([valid]);
    expect(whole.errors).toEqual([]);
    expect(whole.messages).toHaveLength(fixtures.length);
    timeBox(300, () => {
      const r = run(splitRandomly(valid, 20));
      expect(r.errors).toEqual([]);
      expect(r.messages).toEqual(whole.messages);
    });
  });

  it('a message over the limit is refused as soon as its declared size is known', () => {
    const f = new MsgpackFramer(1000);
    // str32 header announcing 1 MB: refused from the first 5 bytes.
    expect(() => f.push(Buffer.from([0x93, 0xa1, 0x74, 0xdb, 0x00, 0x10, 0x00, 0x00]))).toThrow(
      /buffer_max_size/,
    );
    // Many small items adding up past the limit.
    const g = new MsgpackFramer(1000);
    expect(() => g.push(Buffer.concat([Buffer.from([0xdd, 0, 0, 0x10, 0]), Buffer.alloc(2000, 1)]))).toThrow(
      /buffer_max_size/,
    );
  });

  it('deep nesting is refused, not a stack overflow', () => {
    expect(() => new MsgpackFramer(1 << 20).push(Buffer.alloc(100_000, 0x91))).toThrow(/nested deeper/);
  });

  it('truncated messages wait for more bytes and are never emitted', () => {
    for (const [, m] of fixtures) {
      const b = Buffer.from(encodeForward(m));
      const cut = randomInt(0, b.length);
      const f = new MsgpackFramer(1 << 20);
      expect(f.push(b.subarray(0, cut))).toEqual([]);
      expect(f.pending()).toBe(cut);
    }
  });

  it('fuzz: random, mutated and wrongly typed input never throws anything but a coded ForwardError', () => {
    const kinds = [
      () => noise(300),
      () => mutate(valid, randomInt(1, 8)),
      () => valid.subarray(0, randomInt(0, valid.length)),
      () =>
        Buffer.from(
          encode([noise(4).toString('latin1'), randomInt(0, 3) ? noise(8) : [noise(3)], { chunk: 1 }]),
        ),
    ];
    let rejected = 0;
    const n = timeBox(
      1000,
      (i) => {
        const input = kinds[i % kinds.length]!();
        const r = run(splitRandomly(input, 6), 4096);
        rejected += r.errors.length;
        for (const e of r.errors) expect(['decode', 'too_large', 'protocol']).toContain(e.reason);
        for (const m of r.messages) {
          expect(typeof m.tag).toBe('string');
          for (const e of m.events) {
            expect(typeof e.time).toBe('bigint');
            expect(e.time >= 0n).toBe(true);
            expect(typeof e.record).toBe('object');
          }
        }
      },
      51,
    );
    expect(n).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(0);
  });
});

describe('shared-key handshake messages', () => {
  const helo = Buffer.from(encodeHelo(Buffer.from('nonce-nonce-nonc'), Buffer.from('auth-salt')));
  const ping = Buffer.from(
    encodePing({ hostname: 'h', salt: Buffer.from('s'), digest: 'ab', username: 'u', passwordDigest: 'cd' }),
  );
  const pong = Buffer.from(encodePong(true, '', 'srv', 'ef'));

  it('round-trip', () => {
    expect(parseHelo(helo)).toEqual({
      nonce: Buffer.from('nonce-nonce-nonc'),
      authSalt: Buffer.from('auth-salt'),
    });
    expect(parsePing(ping)).toMatchObject({
      hostname: 'h',
      digest: 'ab',
      username: 'u',
      passwordDigest: 'cd',
    });
    expect(parsePong(pong)).toEqual({ ok: true, reason: '', hostname: 'srv', digest: 'ef' });
  });

  it('fuzz: random and mutated handshakes parse or throw a protocol ForwardError', () => {
    let refused = 0;
    timeBox(300, (i) => {
      const [parse, valid] = [
        [parseHelo, helo],
        [parsePing, ping],
        [parsePong, pong],
      ][i % 3] as [(b: Uint8Array) => unknown, Buffer];
      const input = i % 2 ? noise(64) : mutate(valid, randomInt(1, 6));
      try {
        parse(input);
      } catch (err) {
        expect(err).toBeInstanceOf(ForwardError);
        expect((err as ForwardError).reason).toBe('protocol');
        refused++;
      }
    });
    expect(refused).toBeGreaterThan(0);
  });
});
