import { seededRng } from '@sprout/http/testing';
import { describe, expect, it } from 'vitest';
import { fieldBytesValid, knownName } from './http-bytes.js';

const rng = seededRng();
const seed = `FUZZ_SEED=${rng.seed}`;

/** The rule fieldBytesValid implements, a byte at a time. */
function reference(bytes: Uint8Array, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const b = bytes[k]!;
    if ((b >= 0x20 && b < 0x7f) || b === 0x09) continue;
    if (b === 0x0d && k + 1 < to && bytes[k + 1] === 0x0a) continue;
    if (b === 0x0a && k > from && bytes[k - 1] === 0x0d) continue;
    return false;
  }
  return true;
}

describe('fieldBytesValid', () => {
  it('agrees with a byte-at-a-time reading for every byte value at every place of a word', () => {
    // long enough for the four-bytes-a-step path, at each alignment of the buffer
    const line = Buffer.from('\r\nAccept: text/html,application/xhtml+xml;q=0.9\t*/*');
    const base = Buffer.concat([line, line, line, line]);
    for (const offset of [0, 1, 2, 3]) {
      const backing = Buffer.alloc(base.length + 8);
      const bytes = backing.subarray(offset, offset + base.length);
      for (let at = 0; at < 8; at++) {
        for (let b = 0; b < 256; b++) {
          base.copy(bytes);
          const pos = base.length - 1 - at;
          bytes[pos] = b;
          expect(fieldBytesValid(bytes, 0, bytes.length), `${b} at ${pos}`).toBe(
            reference(bytes, 0, bytes.length),
          );
        }
      }
    }
  });

  it('agrees with the reference on random field bytes, long and short', () => {
    const alphabet = [0x09, 0x0a, 0x0d, 0x20, 0x41, 0x61, 0x7e, 0x7f, 0x80, 0xff, 0x00, 0x1f, 0x3a];
    let invalid = 0;
    for (let i = 0; i < 20000; i++) {
      const n = rng.int(0, 300);
      const bytes = Buffer.alloc(n);
      for (let k = 0; k < n; k++) bytes[k] = rng.next() < 0.97 ? rng.int(0x20, 0x7e) : rng.pick(alphabet);
      const from = rng.int(0, Math.min(n, 5));
      const want = reference(bytes, from, n);
      if (!want) invalid++;
      expect(fieldBytesValid(bytes, from, n), `${seed} ${JSON.stringify(bytes.toString('latin1'))}`).toBe(
        want,
      );
    }
    expect(invalid, seed).toBeGreaterThan(1000);
  });
});

describe('knownName', () => {
  it('gives the lower-cased constant for a known name in any case, nothing for others', () => {
    const at = (s: string) => knownName(Buffer.from(`x${s}y`, 'latin1'), 1, 1 + s.length);
    expect(at('Host')).toBe('host');
    expect(at('USER-AGENT')).toBe('user-agent');
    expect(at('x-forwarded-for')).toBe('x-forwarded-for');
    expect(at('Hos')).toBeUndefined();
    expect(at('hosts')).toBeUndefined();
    expect(at('x-custom')).toBeUndefined();
    // `|0x20` folds case for letters only: a byte that is not a letter never matches one
    expect(at('HOS\x14')).toBeUndefined();
    expect(at('\x08ost')).toBeUndefined();
  });
});
