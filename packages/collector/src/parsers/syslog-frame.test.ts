import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mutate, noise, splitRandomly, timeBox } from '../../test/fuzz.js';
import { SyslogFrameSplitter } from './syslog-frame.js';

function feed(s: SyslogFrameSplitter, pieces: string[] | Buffer[]) {
  const frames: string[] = [];
  const rejected: string[] = [];
  for (const p of pieces) {
    const r = s.push(Buffer.isBuffer(p) ? p : Buffer.from(p));
    frames.push(...r.frames.map((f) => f.toString()));
    rejected.push(...r.rejected.map((x) => x.reason));
  }
  return { frames, rejected };
}

describe('SyslogFrameSplitter (RFC 6587)', () => {
  // [max, pieces, frames, rejected]
  const table: Array<[number, string[], string[], string[]]> = [
    // §3.4.1 octet counting
    [100, ['5 hello6 world!'], ['hello', 'world!'], []],
    [100, ['13 <13>1 - - -', ' -'], ['<13>1 - - - -'], []], // frame split across pushes
    [100, ['1', '0 0123456789'], ['0123456789'], []], // length split across pushes
    [100, ['5 a\nb\nc'], ['a\nb\nc'], []], // LF inside an octet-counted frame is data
    // §3.4.2 non-transparent framing (LF trailer, CRLF tolerated)
    [100, ['<13>a\n<14>b\r\n'], ['<13>a', '<14>b'], []],
    [100, ['<13>a', 'b\n'], ['<13>ab'], []],
    // both styles on one connection, detected per frame
    [100, ['3 abc<13>x\n2 yz'], ['abc', '<13>x', 'yz'], []],
    // limits: declared length over the limit is rejected at once and skipped
    [10, ['50 ' + 'x'.repeat(50) + '3 abc'], ['abc'], ['too_large']],
    [10, ['<13>' + 'y'.repeat(20), 'zz\n<1>ok\n'], ['<1>ok'], ['too_large']],
    [100, ['1234567890123 x\n<1>ok\n'], ['<1>ok'], ['garbage']],
  ];
  it.each(table)('max %d %j', (max, pieces, frames, rejected) => {
    expect(feed(new SyslogFrameSplitter(max), pieces)).toEqual({ frames, rejected });
  });

  // fixed framings (fluent-bit's `frame`)
  const fixed: Array<['newline' | 'octet_counting', string[], string[], string[]]> = [
    ['newline', ['3 abc\n12 monkeys\n'], ['3 abc', '12 monkeys'], []],
    ['newline', ['5 a\nb\nc\n'], ['5 a', 'b', 'c'], []],
    ['octet_counting', ['5 hello', '6 world!'], ['hello', 'world!'], []],
    ['octet_counting', ['<13>no length\n3 abc'], ['abc'], ['garbage']],
  ];
  it.each(fixed)('frame %s %j', (framing, pieces, frames, rejected) => {
    expect(feed(new SyslogFrameSplitter(100, framing), pieces)).toEqual({ frames, rejected });
  });

  it('fuzz: random and mutated bytes never throw; frames bounded; tail bounded', () => {
    const s = new SyslogFrameSplitter(200);
    const valid = Buffer.from('12 <13>1 - - - -<14>plain\n');
    timeBox(300, (i) => {
      const r = s.push(i % 2 ? noise(300) : mutate(valid));
      for (const f of r.frames) expect(f.length).toBeLessThanOrEqual(200);
      expect(s.pending()).toBeLessThanOrEqual(200 + 11);
    });
  });

  it('fuzz: valid mixed framing split at random points gives the same frames', () => {
    timeBox(300, () => {
      const msgs = Array.from(
        { length: randomInt(1, 20) },
        (_, i) => `<${i}>1 - h app - - - m${randomInt(0, 1e6)}`,
      );
      const whole = Buffer.from(
        msgs.map((m) => (randomInt(0, 2) ? `${Buffer.byteLength(m)} ${m}` : `${m}\n`)).join(''),
      );
      expect(feed(new SyslogFrameSplitter(1000), splitRandomly(whole, 16)).frames).toEqual(msgs);
    });
  });
});
