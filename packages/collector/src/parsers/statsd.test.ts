import { describe, expect, it } from 'vitest';
import { mutate, noise, timeBox } from '../../test/fuzz.js';
import { parseStatsdLine, parseStatsdPacket } from './statsd.js';

describe('statsd line parser', () => {
  // Round-trip fixtures: line ↔ sample (etsy StatsD metric types; DogStatsD datagram format for tags).
  const table: Array<[string, unknown]> = [
    ['hits:1|c', { name: 'hits', type: 'counter', value: 1, sampleRate: 1 }],
    ['hits:3|c|@0.1', { name: 'hits', type: 'counter', value: 3, sampleRate: 0.1 }],
    ['hits:+3|c', { name: 'hits', type: 'counter', value: 3, sampleRate: 1, incremental: true }],
    ['temp:21.5|g', { name: 'temp', type: 'gauge', value: 21.5, sampleRate: 1 }],
    ['temp:-4|g', { name: 'temp', type: 'gauge', value: -4, sampleRate: 1, incremental: true }],
    ['temp:+4|g', { name: 'temp', type: 'gauge', value: 4, sampleRate: 1, incremental: true }],
    ['req.time:320|ms|@0.5', { name: 'req.time', type: 'timer', value: 320, sampleRate: 0.5 }],
    ['size:7|h', { name: 'size', type: 'histogram', value: 7, sampleRate: 1 }],
    ['users:alice|s', { name: 'users', type: 'set', value: 'alice', sampleRate: 1 }],
    [
      'lat:1.5|d|#env:prod,region:eu,flag',
      {
        name: 'lat',
        type: 'distribution',
        value: 1.5,
        sampleRate: 1,
        tags: { env: 'prod', region: 'eu', flag: '' },
      },
    ],
    ['a:b:1|c', { name: 'a:b', type: 'counter', value: 1, sampleRate: 1 }], // last colon before | splits
    ['x:1|c|@1|#t:1|c:abc', { name: 'x', type: 'counter', value: 1, sampleRate: 1, tags: { t: '1' } }],
  ];
  it.each(table)('%s', (line, want) => expect(parseStatsdLine(line)).toEqual(want));

  it.each([
    ['nocolon', 'missing name:value'],
    ['x:1', 'missing |type'],
    ['x:1|q', "unknown type 'q'"],
    ['x:abc|c', "'abc' is not a number"],
    ['x:1|c|@2', "bad sample rate '@2'"],
    ['x:1|c|@0', "bad sample rate '@0'"],
    ['x:|s', 'empty set member'],
    ['x:1|c|zzz', "unknown field 'zzz'"],
    ['x:1e999|g', "'1e999' is out of range"],
  ])('rejects %s', (line, error) => expect(parseStatsdLine(line)).toBe(error));

  it('a datagram keeps good lines beside bad ones', () => {
    const r = parseStatsdPacket('a:1|c\nbad\n\nb:2|g\n');
    expect(r.samples.map((s) => s.name)).toEqual(['a', 'b']);
    expect(r.errors).toEqual([{ line: 'bad', error: 'missing name:value' }]);
  });

  it('fuzz: random and mutated datagrams never throw; every line is a sample or a counted error', () => {
    const valid = Buffer.from('a.b:1|c|@0.5|#x:y\nt:2|ms\ng:-1|g\ns:u|s\n');
    timeBox(300, (i) => {
      const text = (i % 2 ? noise(200) : mutate(valid, 5)).toString('utf8');
      const r = parseStatsdPacket(text);
      const lines = text.split('\n').filter((l) => l.trim());
      expect(r.samples.length + r.errors.length).toBe(lines.length);
      for (const s of r.samples) {
        expect(Number.isFinite(s.sampleRate)).toBe(true);
        if (typeof s.value === 'number') expect(Number.isFinite(s.value)).toBe(true);
      }
    });
  });
});
