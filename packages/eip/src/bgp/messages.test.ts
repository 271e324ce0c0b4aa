import { describe, expect, it } from 'vitest';
import { EipError } from '../errors.js';
import { BgpMessageError, type BgpMessage } from './message-types.js';
import { BgpParser, encodeMessage } from './messages.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const M = 'ffffffffffffffffffffffffffffffff';

// Round-trip fixtures: bytes <-> message. Clause numbers are RFC 4271 unless said otherwise.
const fixtures: [string, string, BgpMessage][] = [
  ['KEEPALIVE (4.4)', `${M} 0013 04`, { type: 'keepalive' }],
  [
    'NOTIFICATION Cease/Administrative Shutdown (4.5, RFC 4486)',
    `${M} 0015 03 06 02`,
    { type: 'notification', code: 6, subcode: 2, data: Buffer.alloc(0) },
  ],
  [
    'OPEN with multiprotocol IPv4+IPv6 (RFC 4760 8), route refresh, 4-octet AS 4200000001 (RFC 6793 3) and AS_TRANS',
    `${M} 0033 01 04 5ba0 005a c0000201 16 02 14 01040001 0001 01040002 0001 0200 4104 fa56ea01`,
    {
      type: 'open',
      version: 4,
      myAs: 23456,
      holdTime: 90,
      bgpId: '192.0.2.1',
      capabilities: [
        { code: 1, afi: 1, safi: 1 },
        { code: 1, afi: 2, safi: 1 },
        { code: 2 },
        { code: 65, as: 4200000001 },
      ],
    },
  ],
  [
    'UPDATE announcing 198.51.100.7/32, eBGP AS_PATH [65010] as 4 octets (4.3, 5.1)',
    `${M} 0030 02 0000 0014 4001 01 00 4002 06 0201 0000fdf2 4003 04 c000020a 20 c6336407`,
    {
      type: 'update',
      withdrawn: [],
      origin: 0,
      asPath: [65010],
      nextHop: '192.0.2.10',
      nlri: [{ prefix: '198.51.100.7', length: 32 }],
      other: [],
    },
  ],
  [
    'UPDATE withdrawing 198.51.100.7/32 and 10.0.0.0/8 (4.3)',
    `${M} 001e 02 0007 20 c6336407 08 0a 0000`,
    {
      type: 'update',
      withdrawn: [
        { prefix: '198.51.100.7', length: 32 },
        { prefix: '10.0.0.0', length: 8 },
      ],
      nlri: [],
      other: [],
    },
  ],
  [
    'UPDATE MP_REACH_NLRI IPv6 2001:db8::5/128 (RFC 4760 3), iBGP empty AS_PATH with LOCAL_PREF',
    `${M} 004e 02 0000 0037 4001 01 00 4002 00 4005 04 00000064 800e 26 0002 01 10 20010db8000000000000000000000001 00 80 20010db8000000000000000000000005`,
    {
      type: 'update',
      withdrawn: [],
      origin: 0,
      asPath: [],
      localPref: 100,
      mpReach: { afi: 2, safi: 1, nextHop: ['2001:db8::1'], nlri: [{ prefix: '2001:db8::5', length: 128 }] },
      nlri: [],
      other: [],
    },
  ],
  [
    'UPDATE MP_UNREACH_NLRI IPv6 (RFC 4760 4)',
    `${M} 002e 02 0000 0017 800f 14 0002 01 80 20010db8000000000000000000000005`,
    {
      type: 'update',
      withdrawn: [],
      mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8::5', length: 128 }] },
      nlri: [],
      other: [],
    },
  ],
  [
    'ROUTE-REFRESH IPv4 unicast (RFC 2918 3)',
    `${M} 0017 05 0001 00 01`,
    { type: 'route-refresh', afi: 1, safi: 1 },
  ],
];

describe('BGP message codec', () => {
  it.each(fixtures)('%s', (_name, bytes, message) => {
    const b = hex(bytes);
    expect(new BgpParser().push(b)).toEqual([message]);
    expect(encodeMessage(message).toString('hex')).toBe(b.toString('hex'));
  });

  it('reads 2-octet AS_PATHs when 4-octet AS was not negotiated (RFC 6793 4.1)', () => {
    const m: BgpMessage = {
      type: 'update',
      withdrawn: [],
      origin: 0,
      asPath: [65010, 100],
      nextHop: '192.0.2.10',
      nlri: [{ prefix: '10.1.0.0', length: 16 }],
      other: [],
    };
    const b = encodeMessage(m, { as4: false });
    expect(new BgpParser({ as4: false }).push(b)).toEqual([m]);
    expect(() => new BgpParser({ as4: true }).push(b)).toThrow(/AS runs past the end/);
  });

  it('keeps unknown attributes as they came', () => {
    const m: BgpMessage = {
      type: 'update',
      withdrawn: [],
      nlri: [],
      other: [{ flags: 0xc0, code: 8, data: hex('fde80001') }],
    };
    expect(new BgpParser().push(encodeMessage(m))).toEqual([m]);
  });

  it.each([
    ['a bad marker (6.1: 1/1)', `ffffffffffffffffffffffffffff00ff 0013 04`, 1, 1, 14],
    ['a length under 19 (6.1: 1/2)', `${M} 0012 04`, 1, 2, 16],
    ['a length over 4096 (6.1: 1/2)', `${M} 1001 02`, 1, 2, 16],
    ['an unknown type (6.1: 1/3)', `${M} 0013 09`, 1, 3, 18],
    ['a KEEPALIVE with a body (6.1: 1/2)', `${M} 0014 04 00`, 1, 2, 19],
    ['BGP version 3 (6.2: 2/1)', `${M} 001d 01 03 fde8 005a c0000201 00`, 2, 1, 19],
    ['hold time 2 (6.2: 2/6)', `${M} 001d 01 04 fde8 0002 c0000201 00`, 2, 6, 22],
    [
      'an optional parameter that is not capabilities (6.2: 2/4)',
      `${M} 001f 01 04 fde8 005a c0000201 02 0100`,
      2,
      4,
      29,
    ],
    ['an attribute running past the list (6.3: 3/1)', `${M} 001b 02 0000 0004 4001 05 00`, 3, 1, 26],
    ['ORIGIN 7 (6.3: 3/6)', `${M} 001b 02 0000 0004 4001 01 07`, 3, 6, 26],
    ['NLRI without mandatory attributes (6.3: 3/3)', `${M} 0019 02 0000 0000 08 0a`, 3, 3, 23],
    ['a prefix length over 32 (6.3: 3/1)', `${M} 0019 02 0000 0000 21 0a`, 3, 1, 23],
  ])('refuses %s with the NOTIFICATION to send and the byte offset', (_n, bytes, code, subcode, offset) => {
    try {
      new BgpParser().push(hex(bytes));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BgpMessageError);
      const e = err as BgpMessageError;
      expect([e.code, e.notifyCode, e.notifySubcode, e.offset]).toEqual([
        'SPROUT_ERR_EIP_BGP_MESSAGE',
        code,
        subcode,
        offset,
      ]);
    }
  });

  it('refuses a too-long declared length before the body arrives', () => {
    const p = new BgpParser();
    expect(() => p.push(hex(`${M} ffff`).subarray(0, 17))).not.toThrow();
    expect(() => p.push(hex('ff 02'))).toThrow(/bad message length 65535/);
  });
});

// Fuzz, time-boxed.
describe('BGP decoder fuzz', () => {
  let seed = 0xb9b;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const run = (ms: number, min: number, body: () => void) => {
    const end = Date.now() + ms;
    let n = 0;
    while (n < min || Date.now() < end) {
      body();
      n++;
    }
    return n;
  };
  const stream = Buffer.concat(fixtures.map(([, b]) => hex(b)));
  const expected = fixtures.map(([, , m]) => m);

  it('decodes valid input split at random points into the same messages', () => {
    run(400, 300, () => {
      const p = new BgpParser();
      const got: BgpMessage[] = [];
      let at = 0;
      while (at < stream.length) {
        const n = 1 + Math.floor(rnd() * 40);
        got.push(...p.push(stream.subarray(at, at + n)));
        at += n;
      }
      expect(got).toEqual(expected);
      expect(p.pending).toBe(0);
    });
  });

  it('random bytes and mutated messages give messages or a coded error, never a crash', () => {
    let errors = 0;
    let decoded = 0;
    run(600, 2000, () => {
      let b: Buffer;
      if (rnd() < 0.3) {
        b = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
      } else {
        b = Buffer.from(hex(fixtures[Math.floor(rnd() * fixtures.length)]![1]));
        const flips = 1 + Math.floor(rnd() * 3);
        for (let i = 0; i < flips; i++) {
          // Mostly after the marker, so the body decoders are exercised.
          const at = rnd() < 0.9 ? 16 + Math.floor(rnd() * (b.length - 16)) : Math.floor(rnd() * b.length);
          b[at] = Math.floor(rnd() * 256);
        }
      }
      try {
        const msgs = new BgpParser({ as4: rnd() < 0.5 }).push(b);
        decoded += msgs.length;
        // Whatever decodes must encode again and decode to the same thing.
        for (const m of msgs) {
          if (m.type === 'update' && m.asPath?.some((a) => a > 0xffff)) continue;
          try {
            expect(new BgpParser({ as4: true }).push(encodeMessage(m))).toEqual([m]);
          } catch (err) {
            // A decoded message may not be re-encodable only for an oversize reason.
            expect(err).toBeInstanceOf(EipError);
          }
        }
      } catch (err) {
        expect(err).toBeInstanceOf(BgpMessageError);
        errors++;
      }
    });
    expect(errors).toBeGreaterThan(100);
    expect(decoded).toBeGreaterThan(100);
  });
});
