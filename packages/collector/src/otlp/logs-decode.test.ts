import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mutate, noise, timeBox } from '../../test/fuzz.js';
import { requestToRecords } from './convert.js';
import { decodeLogsToRecords } from './logs-decode.js';
import { decodeRequest, encodeRequest } from './proto.js';

type Obj = Record<string, unknown>;

/** The reference: protobufjs decode, then the generic conversion. */
const reference = (bytes: Uint8Array) => requestToRecords('logs', decodeRequest('logs', bytes), 't', false);

const kv = (key: string, value: Obj) => ({ key, value });

const fixtures: Array<[string, Obj]> = [
  [
    'every log record field, kvlist body, nested values, two resources',
    {
      resourceLogs: [
        {
          resource: {
            attributes: [kv('service.name', { stringValue: 'svc' }), kv('pid', { intValue: '42' })],
          },
          scopeLogs: [
            {
              scope: { name: 'lib', version: '1.0', attributes: [kv('s', { boolValue: false })] },
              logRecords: [
                {
                  timeUnixNano: '1700000000000000123',
                  observedTimeUnixNano: '1700000000000000999',
                  severityNumber: 9,
                  severityText: 'INFO',
                  body: {
                    kvlistValue: {
                      values: [
                        kv('msg', { stringValue: 'héllo ✓' }),
                        kv('big', { intValue: '9007199254740993' }),
                        kv('neg', { intValue: '-9223372036854775808' }),
                        kv('d', { doubleValue: -0.25 }),
                        kv('raw', { bytesValue: 'AAH/' }),
                        kv('xs', {
                          arrayValue: { values: [{ doubleValue: 1.5 }, { stringValue: 'a' }, {}] },
                        }),
                        kv('empty', {}),
                        kv('nested', { kvlistValue: { values: [kv('k', { stringValue: 'v' })] } }),
                      ],
                    },
                  },
                  attributes: [
                    kv('http.status', { intValue: '200' }),
                    kv('dup', { stringValue: 'first' }),
                    kv('dup', { stringValue: 'second' }),
                  ],
                  flags: 1,
                  traceId: '0102030405060708090a0b0c0d0e0f10',
                  spanId: '0102030405060708',
                  eventName: 'evt',
                },
                { observedTimeUnixNano: '1700000000000000999', body: { stringValue: 'plain' } },
                { timeUnixNano: '5', body: { arrayValue: { values: [{ intValue: '1' }] } } },
              ],
            },
            { logRecords: [{ timeUnixNano: '7', body: { boolValue: true } }] },
          ],
        },
        { scopeLogs: [{ scope: { name: 'other' }, logRecords: [{ timeUnixNano: '8' }] }] },
      ],
    },
  ],
  ['an empty request', {}],
  [
    'a resource without records',
    { resourceLogs: [{ resource: { attributes: [kv('a', { stringValue: 'b' })] } }] },
  ],
];

const letters = 'abcdefghij';
function randomValue(depth: number): Obj {
  switch (randomInt(0, depth > 2 ? 5 : 7)) {
    case 0:
      return { stringValue: randomBytes(randomInt(0, 12)).toString('base64') };
    case 1:
      return { boolValue: randomInt(0, 2) === 1 };
    case 2:
      return { intValue: String(BigInt.asIntN(64, randomBytes(8).readBigUInt64BE())) };
    case 3:
      return { doubleValue: (Math.random() - 0.5) * 1e6 };
    case 4:
      return { bytesValue: randomBytes(randomInt(0, 6)).toString('base64') };
    case 5:
      return {
        arrayValue: { values: Array.from({ length: randomInt(0, 4) }, () => randomValue(depth + 1)) },
      };
    default:
      return { kvlistValue: { values: randomAttrs(depth + 1) } };
  }
}
const randomAttrs = (depth = 0) =>
  Array.from({ length: randomInt(0, 4) }, () =>
    kv(letters[randomInt(0, letters.length)]!, randomValue(depth)),
  );

function randomRequest(): Obj {
  return {
    resourceLogs: Array.from({ length: randomInt(0, 3) }, () => ({
      ...(randomInt(0, 2) ? { resource: { attributes: randomAttrs() } } : {}),
      scopeLogs: Array.from({ length: randomInt(0, 3) }, () => ({
        ...(randomInt(0, 2)
          ? { scope: { name: 'n', version: String(randomInt(0, 9)), attributes: randomAttrs() } }
          : {}),
        logRecords: Array.from({ length: randomInt(0, 4) }, () => ({
          timeUnixNano: String(randomInt(1, 2 ** 47)),
          ...(randomInt(0, 2) ? { severityNumber: randomInt(1, 24), severityText: 'WARN' } : {}),
          ...(randomInt(0, 2) ? { body: randomValue(0) } : {}),
          attributes: randomAttrs(),
          ...(randomInt(0, 2)
            ? { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') }
            : {}),
          ...(randomInt(0, 3) === 0 ? { flags: randomInt(0, 256), eventName: 'e' } : {}),
        })),
      })),
    })),
  };
}

describe('decodeLogsToRecords (one-pass OTLP logs decoder)', () => {
  it.each(fixtures)('gives the same records as decode + convert: %s', (_name, req) => {
    const bytes = encodeRequest('logs', req);
    const got = decodeLogsToRecords(bytes, 't');
    expect(got).toEqual(reference(bytes));
    expect(got.length).toBe(reference(bytes).length);
  });

  it('reads the values of the first fixture exactly', () => {
    const [r0, r1] = decodeLogsToRecords(encodeRequest('logs', fixtures[0]![1]), 'tag');
    expect(r0!.time).toBe(1700000000000000123n);
    expect(r0!.body).toMatchObject({
      msg: 'héllo ✓',
      big: '9007199254740993',
      neg: '-9223372036854775808',
      d: -0.25,
      raw: 'AAH/',
      xs: [1.5, 'a', null],
      empty: null,
      nested: { k: 'v' },
    });
    expect(r0!.meta!.otlp).toMatchObject({
      resource: { 'service.name': 'svc', pid: 42 },
      scope: { name: 'lib', version: '1.0', attributes: { s: false } },
      attributes: { 'http.status': 200, dup: 'second' },
      severityNumber: 9,
      severityText: 'INFO',
      flags: 1,
      eventName: 'evt',
      traceId: '0102030405060708090a0b0c0d0e0f10',
      spanId: '0102030405060708',
    });
    expect(r1).toMatchObject({ time: 1700000000000000999n, body: { log: 'plain' }, tag: 'tag' });
  });

  it('fuzz: random valid requests decode the same as the reference path', () => {
    timeBox(300, () => {
      const bytes = encodeRequest('logs', randomRequest());
      expect(decodeLogsToRecords(bytes, 't')).toEqual(reference(bytes));
    });
  });

  it('fuzz: random and mutated bytes either decode or throw an Error, never hang or return junk types', () => {
    const valid = encodeRequest('logs', fixtures[0]![1]);
    timeBox(300, (i) => {
      const input = i % 2 ? noise(300) : mutate(Buffer.from(valid), randomInt(1, 6));
      try {
        for (const r of decodeLogsToRecords(input, 't')) {
          expect(typeof r.time).toBe('bigint');
          expect(typeof r.body).toBe('object');
        }
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
      }
    });
  });

  it('refuses a truncated request and a known field with the wrong wire type', () => {
    const valid = encodeRequest('logs', fixtures[0]![1]);
    expect(() => decodeLogsToRecords(valid.subarray(0, valid.length - 3), 't')).toThrow();
    // resource_logs (field 1) as a varint instead of length-delimited.
    expect(() => decodeLogsToRecords(Uint8Array.from([0x08, 0x01]), 't')).toThrow(/wire type/);
  });
});
