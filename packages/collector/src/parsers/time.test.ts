import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mutate, timeBox } from '../../test/fuzz.js';
import { parseRfc3339 } from './time.js';

/** The regular expression parseRfc3339 replaced (kept here as the reference it must agree with). */
function reference(text: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]!.slice(0, 10)}T${m[1]!.slice(11)}${m[3]!.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + (m[2] ? BigInt(m[2].padEnd(9, '0')) : 0n);
}

const samples = [
  '2003-10-11T22:14:15.003Z',
  '2003-10-11T22:14:15Z',
  '2003-08-24T05:14:15.000003-07:00',
  '2026-12-07t03:00:00.123456789z',
  '2026-12-07T03:00:00.1234567890Z',
  '2026-12-07T03:00:00.Z',
  '2026-12-07T03:00:00+0100',
  '2026-13-07T03:00:00Z',
  '2026-12-07 03:00:00Z',
  '',
  '-',
];

describe('parseRfc3339', () => {
  it.each(samples)('%j as the reference regular expression reads it', (text) =>
    expect(parseRfc3339(text)).toEqual(reference(text)),
  );

  it('fuzz: mutated and cut timestamps read as the reference reads them (the cache included)', () => {
    timeBox(300, () => {
      const base = Buffer.from(samples[randomInt(0, 4)]!);
      const text = mutate(base, randomInt(0, 3))
        .toString('latin1')
        .slice(0, randomInt(0, base.length + 2));
      expect(parseRfc3339(text)).toEqual(reference(text));
    });
  });
});
