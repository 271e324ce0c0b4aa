import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EipError } from './errors.js';
import {
  blockContains,
  blockSize,
  blocksOverlap,
  formatIp,
  parseAddressBlock,
  parseIp,
  reservedAddresses,
  type IpFamily,
} from './ip.js';

describe('parseIp / formatIp', () => {
  const table: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 4.2.3: first longest run
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // RFC 5952 4.2.2: no '::' for one group
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ];
  it.each(table)('%s -> %s', (input, canonical) => {
    const ip = parseIp(input);
    expect(formatIp(ip)).toBe(canonical);
    expect(parseIp(canonical)).toEqual(ip);
  });

  const badInputs: [string, RegExp][] = [
    ['', /empty/],
    ['10.0.0', /four dotted/],
    ['10.0.0.256', /over 255/],
    ['10.0.0.01', /leading zero/],
    ['10.0.0.-1', /bad IPv4 part/],
    ['fe80::1%eth0', /zone/],
    ['1::2::3', /more than one/],
    ['1:2:3:4:5:6:7:8:9', /eight groups/],
    ['1:2:3:4:5:6:7::8', /too many groups/],
    ['12345::', /bad IPv6 group/],
    ['g::1', /bad IPv6 group/],
  ];
  it.each(badInputs)('rejects %j', (input, why) => {
    expect(() => parseIp(input)).toThrow(why);
    try {
      parseIp(input);
    } catch (err) {
      expect(err).toBeInstanceOf(EipError);
      expect((err as EipError).code).toBe('SPROUT_ERR_EIP_BAD_ADDRESS');
    }
  });
});

describe('parseAddressBlock', () => {
  it('reads single IPs, CIDRs and ranges in both families', () => {
    expect(blockSize(parseAddressBlock('10.0.0.1'))).toBe(1n);
    expect(blockSize(parseAddressBlock('10.0.0.0/24'))).toBe(256n);
    expect(blockSize(parseAddressBlock('0.0.0.0/0'))).toBe(1n << 32n);
    expect(blockSize(parseAddressBlock('192.168.0.91-192.168.0.100'))).toBe(10n);
    expect(blockSize(parseAddressBlock('2001:db8::/64'))).toBe(1n << 64n);
    expect(blockSize(parseAddressBlock('2001:db8::1-2001:db8::ff'))).toBe(255n);
    expect(parseAddressBlock(' 10.1.0.0/16 ').prefix).toBe(16);
  });
  it.each([
    ['10.0.0.5/24', /host bits set; did you mean 10.0.0.0\/24/],
    ['10.0.0.0/33', /bad prefix length/],
    ['10.0.0.0/', /bad prefix length/],
    ['10.0.0.0/024', /bad prefix length/],
    ['2001:db8::/129', /bad prefix length/],
    ['10.0.0.9-10.0.0.1', /inverted/],
    ['10.0.0.1-::1', /mixes IPv4 and IPv6/],
    ['fe80::%lo/64', /zone/],
    ['10.0.0.1-', /empty/],
  ])('rejects %j', (input, why) => {
    expect(() => parseAddressBlock(input)).toThrow(why);
  });
  it('names the field at fault', () => {
    expect(() => parseAddressBlock('nope', 'Eip/a: spec.address')).toThrow(/^Eip\/a: spec.address: 'nope'/);
  });
  it('finds overlaps and containment', () => {
    const a = parseAddressBlock('10.0.0.0/24');
    const b = parseAddressBlock('10.0.0.255-10.0.1.5');
    const c = parseAddressBlock('10.0.1.6');
    expect(blocksOverlap(a, b)).toBe(true);
    expect(blocksOverlap(a, c)).toBe(false);
    expect(blocksOverlap(a, parseAddressBlock('::a00:0/120'))).toBe(false);
    expect(blockContains(a, parseIp('10.0.0.7'))).toBe(true);
    expect(blockContains(a, parseIp('10.0.1.7'))).toBe(false);
  });
  it('reserves network/broadcast of IPv4 CIDRs and the IPv6 anycast address', () => {
    expect(
      reservedAddresses(parseAddressBlock('10.0.0.0/30')).map((v) => formatIp({ family: 4, value: v })),
    ).toEqual(['10.0.0.0', '10.0.0.3']);
    expect(reservedAddresses(parseAddressBlock('10.0.0.0/31'))).toEqual([]);
    expect(reservedAddresses(parseAddressBlock('10.0.0.0-10.0.0.255'))).toEqual([]);
    expect(reservedAddresses(parseAddressBlock('2001:db8::/64'))).toEqual([parseIp('2001:db8::').value]);
  });
});

// Fuzz, time-boxed: random values round-trip; random text never throws anything but a coded error,
// and our accept/reject agrees with node:net on zone-free inputs.
describe('fuzz', () => {
  let seed = 0x5eed1234;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const randomValue = (family: IpFamily) => {
    let v = 0n;
    for (let i = 0; i < (family === 4 ? 2 : 8); i++) v = (v << 16n) | BigInt(Math.floor(rnd() * 65536));
    // Zero runs make '::' compression interesting.
    if (family === 6 && rnd() < 0.5) v &= ~(0xffffffffn << BigInt(16 * Math.floor(rnd() * 7)));
    return v;
  };
  // At least `min` iterations, then more until the time box closes.
  const deadline = (ms: number, min = 2000) => {
    const end = Date.now() + ms;
    let i = 0;
    return () => i++ < min || Date.now() < end;
  };

  it('round-trips random addresses', () => {
    let n = 0;
    for (const more = deadline(Number(process.env.EIP_FUZZ_MS ?? 400)); more(); n++) {
      const family: IpFamily = rnd() < 0.5 ? 4 : 6;
      const ip = { family, value: randomValue(family) };
      const text = formatIp(ip);
      expect(isIP(text)).toBe(family);
      expect(parseIp(text)).toEqual(ip);
      expect(parseIp(text.toUpperCase())).toEqual(ip);
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('agrees with node:net on mutated address text', () => {
    const alphabet = '0123456789abcdefABCDEF:.%/- x';
    let n = 0;
    for (const more = deadline(500); more(); n++) {
      const family: IpFamily = rnd() < 0.5 ? 4 : 6;
      const chars = [...formatIp({ family, value: randomValue(family) })];
      const edits = 1 + Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * (chars.length + 1));
        const ch = alphabet[Math.floor(rnd() * alphabet.length)]!;
        const op = rnd();
        if (op < 0.4) chars.splice(at, 0, ch);
        else if (op < 0.7) chars.splice(at, 1);
        else chars[at] = ch;
      }
      const text = chars.join('');
      let ours: IpFamily | 0 = 0;
      try {
        ours = parseIp(text).family;
      } catch (err) {
        expect(err).toBeInstanceOf(EipError);
      }
      const theirs = isIP(text.trim());
      // node accepts zones ('%eth0'); we refuse them on purpose.
      if (!text.includes('%')) expect(ours, text).toBe(theirs);
      else expect(ours).toBe(0);
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('never throws an uncoded error on random block text', () => {
    const alphabet = '0123456789abcdef:./-%';
    for (const more = deadline(300); more();) {
      const len = Math.floor(rnd() * 40);
      let s = '';
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        const b = parseAddressBlock(s);
        expect(b.first <= b.last).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(EipError);
      }
    }
  });
});
