import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mutate, noise, splitRandomly, timeBox } from '../../test/fuzz.js';
import { JsonObjectSplitter, JsonRecordReader, SeparatorSplitter } from './split.js';

const b = (s: string) => Buffer.from(s);
const frames = (r: { frames: Buffer[] }) => r.frames.map((f) => f.toString());

function feed(s: SeparatorSplitter | JsonObjectSplitter, pieces: Buffer[]) {
  const out: string[] = [];
  const rejected: Array<{ reason: string; bytes: number }> = [];
  for (const p of pieces) {
    const r = s.push(p);
    out.push(...frames(r));
    rejected.push(...r.rejected);
  }
  return { out, rejected };
}

describe('SeparatorSplitter', () => {
  // [separator, max, pieces, frames, rejected reasons]
  const table: Array<[string, number, string[], string[], string[]]> = [
    ['\n', 100, ['a\nb\n'], ['a', 'b'], []],
    ['\n', 100, ['a', 'b\nc'], ['ab'], []], // tail kept
    ['\n', 100, ['\n\n\n'], [], []], // empty frames skipped
    ['\r\n', 100, ['a\r', '\nb\r\n'], ['a', 'b'], []], // separator split across pushes
    ['||', 100, ['x|', '|y||z|', '|'], ['x', 'y', 'z'], []], // multi-character separator
    ['END', 100, ['oneENDtwoEN', 'DthreeE', 'ND'], ['one', 'two', 'three'], []],
    ['\n', 4, ['12345\nab\n'], ['ab'], ['too_large']], // over the limit: rejected, next frame fine
    ['\n', 4, ['123', '456789', 'xyz\nok\n'], ['ok'], ['too_large']], // rejected as soon as it passes the limit, skipped to the separator
  ];
  it.each(table)('sep %j max %d %j', (sep, max, pieces, want, rej) => {
    const { out, rejected } = feed(new SeparatorSplitter(sep, max), pieces.map(b));
    expect(out).toEqual(want);
    expect(rejected.map((r) => r.reason)).toEqual(rej);
  });

  it('hands back an unterminated last frame at end', () => {
    const s = new SeparatorSplitter('\n', 10);
    s.push(b('a\nrest'));
    expect(s.end()?.toString()).toBe('rest');
    expect(s.end()).toBeUndefined();
  });

  it('fuzz: random bytes never throw and keep the tail bounded', () => {
    const s = new SeparatorSplitter('\r\n', 64);
    const n = timeBox(
      300,
      () => {
        const r = s.push(noise(300));
        for (const f of r.frames) expect(f.length).toBeLessThanOrEqual(64);
        expect(s.pending()).toBeLessThanOrEqual(64 + 1);
      },
      51,
    );
    expect(n).toBeGreaterThan(50);
  });

  it('fuzz: valid input split at random points gives the same frames', () => {
    timeBox(300, () => {
      const sep = ['\n', '||', '<EOM>'][randomInt(0, 3)]!;
      const msgs = Array.from({ length: randomInt(1, 20) }, () =>
        `m${randomInt(0, 1e9)}`.repeat(randomInt(1, 4)),
      );
      const whole = b(msgs.map((m) => m + sep).join(''));
      expect(feed(new SeparatorSplitter(sep, 1000), splitRandomly(whole, 12)).out).toEqual(msgs);
    });
  });
});

describe('JsonObjectSplitter', () => {
  const table: Array<[number, string[], string[], string[]]> = [
    [100, ['{"a":1}{"b":2}'], ['{"a":1}', '{"b":2}'], []],
    [100, ['{"a":1}\n{"b":2}\n'], ['{"a":1}', '{"b":2}'], []],
    [100, ['{"a":', '{"x":[1,2,{"y":3}]}}'], ['{"a":{"x":[1,2,{"y":3}]}}'], []],
    [100, ['{"s":"}{\\"', '}"}'], ['{"s":"}{\\"}"}'], []], // braces and escaped quotes inside strings
    [100, ['{"s":"\\\\"}'], ['{"s":"\\\\"}'], []], // escaped backslash ends before the quote
    [100, ['junk {"a":1}'], ['{"a":1}'], ['garbage']],
    [10, ['{"aaaaaaaaaaaaaa":1}{"b":2}'], ['{"b":2}'], ['too_large']],
    [10, ['{"aaaaaaaa', 'aaaaaaaaaaaaaaa', 'aaa":1}{"b":2}'], ['{"b":2}'], ['too_large']], // skipped to its end across pushes
  ];
  it.each(table)('max %d %j', (max, pieces, want, rej) => {
    const { out, rejected } = feed(new JsonObjectSplitter(max), pieces.map(b));
    expect(out).toEqual(want);
    expect(rejected.map((r) => r.reason)).toEqual(rej);
  });

  it('fuzz: random and mutated bytes never throw; frames are balanced and bounded', () => {
    const s = new JsonObjectSplitter(256);
    const valid = b('{"a":[1,{"b":"x}"}],"c":"\\""}\n');
    timeBox(300, (i) => {
      const r = s.push(i % 2 ? noise(200) : mutate(valid));
      for (const f of r.frames) {
        expect(f[0]).toBe(0x7b);
        expect(f.length).toBeLessThanOrEqual(256);
      }
      expect(s.pending()).toBeLessThanOrEqual(256);
    });
  });

  it('fuzz: valid objects split at random points come out whole and parse', () => {
    timeBox(300, () => {
      const objs = Array.from({ length: randomInt(1, 15) }, (_, i) => ({
        i,
        s: 'x{"}'.repeat(randomInt(0, 5)),
        n: { a: [i, { b: '\\' }] },
      }));
      const whole = b(objs.map((o) => JSON.stringify(o)).join(randomInt(0, 2) ? '\n' : ''));
      const { out, rejected } = feed(new JsonObjectSplitter(10_000), splitRandomly(whole, 16));
      expect(rejected).toEqual([]);
      expect(out.map((x) => JSON.parse(x))).toEqual(objs);
    });
  });
});

describe('JsonRecordReader', () => {
  const read = (max: number, pieces: string[]) => {
    const r = new JsonRecordReader(max);
    const bodies: unknown[] = [];
    const rejected: string[] = [];
    for (const p of pieces) {
      const out = r.push(Buffer.from(p));
      bodies.push(...out.bodies);
      rejected.push(...out.rejected.map((x) => x.reason), ...out.invalid.map(() => 'invalid'));
    }
    return { bodies, rejected };
  };
  const table: Array<[string, number, string[], unknown[], string[]]> = [
    ['one object a line', 100, ['{"a":1}\n{"b":2}\n'], [{ a: 1 }, { b: 2 }], []],
    ['a line split across pushes', 100, ['{"s":', '"x"}', '\n'], [{ s: 'x' }], []],
    [
      'switches to the scanner for an object over several lines',
      100,
      ['{"a":1}\n{\n "b": 2\n}\n{"c":3}\n'],
      [{ a: 1 }, { b: 2 }, { c: 3 }],
      [],
    ],
    ['switches for concatenated objects', 100, ['{"a":1}{"b":2}\n'], [{ a: 1 }, { b: 2 }], []],
    ['garbage line', 100, ['{"a":1}\nnope\n{"b":2}\n'], [{ a: 1 }, { b: 2 }], ['garbage']],
    ['oversize line', 10, ['{"a":"xxxxxxxxxxxx"}\n{"b":2}\n'], [{ b: 2 }], ['too_large']],
    [
      'oversize tail without a newline',
      10,
      ['{"a":"xxxx', 'xxxxxxxxxxxxxx"}{"b":2}'],
      [{ b: 2 }],
      ['too_large'],
    ],
  ];
  it.each(table)('%s', (_n, max, pieces, bodies, rejected) => {
    expect(read(max, pieces)).toEqual({ bodies, rejected });
  });

  it('end() reads the objects left without a newline; a cut-off one stays pending', () => {
    const r = new JsonRecordReader(100);
    expect(r.push(b('{"a":1}\n{"b": 2}{"c":')).bodies).toEqual([{ a: 1 }]);
    expect(r.end().bodies).toEqual([{ b: 2 }]);
    expect(r.pending()).toBe(5);
    const whole = new JsonRecordReader(100);
    whole.push(b('{"key 1": 123456789, "key 2": "abcdefg"}'));
    expect(whole.end().bodies).toEqual([{ 'key 1': 123456789, 'key 2': 'abcdefg' }]);
    expect(whole.pending()).toBe(0);
  });

  it('a multi-byte character split between pushes decodes whole', () => {
    const bytes = Buffer.from('{"s":"éè"}\n');
    const r = new JsonRecordReader(100);
    expect([...r.push(bytes.subarray(0, 7)).bodies, ...r.push(bytes.subarray(7)).bodies]).toEqual([
      { s: 'éè' },
    ]);
  });

  it('fuzz: the same objects as the scanner alone, for any split and mix of layouts', () => {
    timeBox(400, () => {
      const objs = Array.from({ length: randomInt(1, 15) }, (_, i) => ({
        i,
        s: 'é{"}'.repeat(randomInt(0, 4)),
      }));
      const pretty = randomInt(0, 4) === 0;
      const whole = b(
        objs
          .map((o) => (pretty ? JSON.stringify(o, null, 1) : JSON.stringify(o)))
          .join(randomInt(0, 3) ? '\n' : ''),
      );
      const r = new JsonRecordReader(10_000);
      const got = splitRandomly(whole, 16).flatMap((p) => r.push(p).bodies);
      const s = new JsonObjectSplitter(10_000);
      // The stream ends with a newline, or without one (end() reads the rest).
      const end = randomInt(0, 2) ? r.push(b('\n')).bodies : r.end().bodies;
      expect([...got, ...end]).toEqual(objs);
      expect(s.push(whole).frames.map((f) => JSON.parse(f.toString()))).toEqual(objs);
    });
  });

  it('fuzz: random bytes never throw; everything is a body or a counted rejection', () => {
    const r = new JsonRecordReader(256);
    timeBox(300, () => {
      const out = r.push(noise(300));
      for (const x of out.bodies) expect(typeof x).toBe('object');
      expect(r.pending()).toBeLessThanOrEqual(256 + 300);
    });
  });
});
