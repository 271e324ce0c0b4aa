import { describe, expect, it } from 'vitest';
import { mutate, noise, timeBox } from '../../test/fuzz.js';
import { decodeCollectdPacket, parseTypesDb } from './collectd.js';
import { num, part, str, values } from '../../test/collectd-packet.js';

const packet = Buffer.concat([
  str(0, 'web-1'),
  num(8, 1_700_000_000n << 30n), // time_hr
  num(9, 10n << 30n), // interval_hr
  str(2, 'load'),
  str(4, 'load'),
  values([
    [1, 0.5],
    [1, 0.25],
    [1, 0.125],
  ]),
  str(2, 'interface'),
  str(3, 'eth0'),
  str(4, 'if_octets'),
  values([
    [2, -5],
    [2, 1000],
  ]),
  num(1, 1_700_000_001n), // plain time
  num(7, 5n),
  str(2, 'cpu'),
  str(3, ''),
  str(4, 'cpu'),
  str(5, 'idle'),
  values([
    [0, 42],
    [3, 7],
  ]),
]);

describe('collectd binary protocol', () => {
  it('decodes identifiers, hi-res and plain times, and the four value types', () => {
    const r = decodeCollectdPacket(packet);
    expect(r.error).toBeUndefined();
    expect(r.values).toEqual([
      {
        host: 'web-1',
        plugin: 'load',
        pluginInstance: '',
        type: 'load',
        typeInstance: '',
        time: 1_700_000_000_000_000_000n,
        interval: 10,
        values: [
          { kind: 'GAUGE', value: 0.5 },
          { kind: 'GAUGE', value: 0.25 },
          { kind: 'GAUGE', value: 0.125 },
        ],
      },
      {
        host: 'web-1',
        plugin: 'interface',
        pluginInstance: 'eth0',
        type: 'if_octets',
        typeInstance: '',
        time: 1_700_000_000_000_000_000n,
        interval: 10,
        values: [
          { kind: 'DERIVE', value: -5 },
          { kind: 'DERIVE', value: 1000 },
        ],
      },
      {
        host: 'web-1',
        plugin: 'cpu',
        pluginInstance: '',
        type: 'cpu',
        typeInstance: 'idle',
        time: 1_700_000_001_000_000_000n,
        interval: 5,
        values: [
          { kind: 'COUNTER', value: 42 },
          { kind: 'ABSOLUTE', value: 7 },
        ],
      },
    ]);
  });

  it.each([
    ['truncated header', Buffer.from([0, 0, 0]), 'truncated part header at byte 0'],
    ['length past the end', Buffer.from([0, 0, 0, 50, 0x61]), 'part length 50 out of range at byte 0'],
    ['string without NUL', part(0, Buffer.from('abc')), 'not NUL-terminated'],
    ['number of the wrong size', part(1, Buffer.alloc(4)), 'must be 8 bytes'],
    ['values count mismatch', part(6, Buffer.from([0, 2, 1])), 'values part of 3 bytes for 2 values'],
    [
      'unknown value type',
      part(6, Buffer.concat([Buffer.from([0, 1, 9]), Buffer.alloc(8)])),
      'unknown value type 9',
    ],
    ['signed packet', part(0x200, Buffer.alloc(32)), 'signed packets are not supported'],
  ])('rejects %s with the byte offset', (_n, buf, msg) => {
    expect(decodeCollectdPacket(buf).error?.message).toContain(msg);
  });

  it('keeps values decoded before a bad part', () => {
    const r = decodeCollectdPacket(
      Buffer.concat([str(4, 'load'), values([[1, 1]]), Buffer.from([0, 0, 0, 99])]),
    );
    expect(r.values).toHaveLength(1);
    expect(r.error?.offset).toBe(9 + 15);
  });

  it('parses types.db and reports bad lines', () => {
    const { types, errors } = parseTypesDb(
      '# comment\nload  shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000\nif_octets rx:DERIVE:0:U, tx:DERIVE:0:U\nbad x:NOPE:0:1\n',
    );
    expect([...types.keys()]).toEqual(['load', 'if_octets']);
    expect(types.get('if_octets')).toEqual([
      { name: 'rx', type: 'DERIVE' },
      { name: 'tx', type: 'DERIVE' },
    ]);
    expect(errors).toEqual(["line 4: bad data source 'x:NOPE:0:1'"]);
  });

  it('fuzz: random and mutated datagrams never throw; errors carry an offset inside the packet', () => {
    let errors = 0;
    timeBox(400, (i) => {
      const buf = i % 2 ? noise(400) : mutate(packet, 4);
      const r = decodeCollectdPacket(buf);
      if (r.error) {
        errors++;
        expect(r.error.offset).toBeLessThanOrEqual(buf.length);
      }
      for (const v of r.values) for (const x of v.values) expect(typeof x.value).toBe('number');
    });
    expect(errors).toBeGreaterThan(0);
  });
});
