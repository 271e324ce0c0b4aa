import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from './units.js';

describe('parseSize', () => {
  it.each([
    ['1048576', 1048576],
    ['512K', 512 * 1024],
    ['512kb', 512 * 1024],
    ['4M', 4 * 1024 ** 2],
    ['1.5MB', Math.floor(1.5 * 1024 ** 2)],
    ['10mb', 10 * 1024 ** 2],
    ['2GiB', 2 * 1024 ** 3],
    ['7b', 7],
    [' 3 K ', 3 * 1024],
  ])('%s → %d', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each(['', 'x', '-1', '4T', '1e3', 'M', '4 M B'])('refuses %j', (text) =>
    expect(parseSize(text)).toBeUndefined(),
  );

  it('multiplies bare numbers by the default unit only', () => {
    expect(parseSize('32', 1024)).toBe(32 * 1024);
    expect(parseSize('32b', 1024)).toBe(32);
    expect(parseSize(2, 1024)).toBe(2048);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['20s', 20_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['250us', 0.25],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 's', '10', '10x', '1m 30s', '-1s', 'ms5'])('refuses %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  it('takes bare seconds when asked', () => {
    expect(parseDuration('15', { bareSeconds: true })).toBe(15_000);
    expect(parseDuration('15')).toBeUndefined();
  });

  it('never throws on generated input', () => {
    const alphabet = '0123456789.msuhµ -x';
    for (let n = 0; n < 5000; n++) {
      let s = '';
      for (let i = Math.floor(Math.random() * 12); i > 0; i--)
        s += alphabet[Math.floor(Math.random() * alphabet.length)];
      const v = parseDuration(s);
      expect(v === undefined || (Number.isFinite(v) && v >= 0)).toBe(true);
      const z = parseSize(s);
      expect(z === undefined || (Number.isInteger(z) && z >= 0)).toBe(true);
    }
  });
});
