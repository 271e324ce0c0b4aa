import { describe, expect, it } from 'vitest';
import { mutate, noise, timeBox } from '../../test/fuzz.js';
import { parseStubStatus } from './nginx.js';

const page =
  'Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n';

describe('stub_status parser', () => {
  it('reads the page nginx serves', () => {
    expect(parseStubStatus(page)).toEqual({
      active: 291,
      accepted: 16630948,
      handled: 16630948,
      requests: 31070465,
      reading: 6,
      writing: 179,
      waiting: 106,
    });
    expect(parseStubStatus(page.replace(/\n/g, '\r\n'))?.active).toBe(291);
  });
  it.each([
    '',
    '<html>502</html>',
    page.replace('Waiting: 106', 'Waiting: x'),
    page.split('\n').slice(0, 2).join('\n'),
  ])('rejects %j', (t) => {
    expect(parseStubStatus(t)).toBeUndefined();
  });
  it('fuzz: random and mutated pages never throw; any result has only non-negative integers', () => {
    timeBox(300, (i) => {
      const r = parseStubStatus((i % 2 ? noise(200) : mutate(Buffer.from(page), 2)).toString('latin1'));
      if (r) for (const v of Object.values(r)) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
    });
  });
});
