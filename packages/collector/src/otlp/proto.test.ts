import { describe, expect, it } from 'vitest';
import { mutate, noise, timeBox } from '../../test/fuzz.js';
import { recordsToRequests, requestToRecords } from './convert.js';
import { decodeRequest, encodeRequest } from './proto.js';

const logsReq = {
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
      scopeLogs: [
        {
          scope: { name: 'lib', version: '1.0' },
          logRecords: [
            {
              timeUnixNano: '1700000000000000123',
              severityNumber: 9,
              severityText: 'INFO',
              body: {
                kvlistValue: {
                  values: [
                    { key: 'msg', value: { stringValue: 'hi' } },
                    { key: 'n', value: { intValue: '42' } },
                    { key: 'ok', value: { boolValue: true } },
                    { key: 'xs', value: { arrayValue: { values: [{ doubleValue: 1.5 }] } } },
                  ],
                },
              },
              attributes: [{ key: 'http.status', value: { intValue: '200' } }],
              traceId: '0102030405060708090a0b0c0d0e0f10',
              spanId: '0102030405060708',
            },
            { observedTimeUnixNano: '1700000000000000999', body: { stringValue: 'plain' } },
          ],
        },
      ],
    },
  ],
};

describe('OTLP protobuf and records', () => {
  it('round-trips a logs request through protobuf (opentelemetry-proto field numbers)', () => {
    // Ids come back as bytes; written as hex they equal the OTLP/JSON input.
    const hex = (v: unknown) =>
      JSON.parse(
        JSON.stringify(v, (_k, x: { type?: string; data?: number[] }) =>
          x?.type === 'Buffer' ? Buffer.from(x.data!).toString('hex') : x,
        ),
      ) as unknown;
    expect(hex(decodeRequest('logs', encodeRequest('logs', logsReq)))).toEqual(logsReq);
  });

  it('keeps 64-bit integers exact, negative ones included', () => {
    const req = {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: '18446744073709551615',
                  body: {
                    arrayValue: {
                      values: [
                        { intValue: '-5' },
                        { intValue: '-9223372036854775808' },
                        { intValue: '9007199254740993' },
                      ],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const [r] = requestToRecords('logs', decodeRequest('logs', encodeRequest('logs', req)), 't', false);
    expect(r!.time).toBe(18446744073709551615n);
    expect(r!.body).toEqual({ log: [-5, '-9223372036854775808', '9007199254740993'] });
  });

  it('turns log records into records with OTLP context in meta, and back', () => {
    const recs = requestToRecords('logs', logsReq, 'v1_logs', false);
    expect(recs.map((r) => [r.time, r.body])).toEqual([
      [1700000000000000123n, { msg: 'hi', n: 42, ok: true, xs: [1.5] }],
      [1700000000000000999n, { log: 'plain' }],
    ]);
    expect(recs[0]!.meta).toEqual({
      otlp: {
        resource: { 'service.name': 'svc' },
        scope: { name: 'lib', version: '1.0', attributes: {} },
        attributes: { 'http.status': 200 },
        severityNumber: 9,
        severityText: 'INFO',
        traceId: '0102030405060708090a0b0c0d0e0f10',
        spanId: '0102030405060708',
      },
    });
    const back = recordsToRequests(recs).logs!;
    expect(
      requestToRecords('logs', decodeRequest('logs', encodeRequest('logs', back)), 'v1_logs', false),
    ).toEqual(recs.map((r, i) => (i === 1 ? { ...r, body: { log: 'plain' } } : r)));
  });

  it('metrics: gauge, monotonic sum, histogram, summary data points', () => {
    const req = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'g',
                  unit: 'By',
                  gauge: {
                    dataPoints: [
                      {
                        timeUnixNano: '5',
                        asDouble: 1.5,
                        attributes: [{ key: 'a', value: { stringValue: 'b' } }],
                      },
                    ],
                  },
                },
                {
                  name: 'c',
                  sum: {
                    isMonotonic: true,
                    aggregationTemporality: 2,
                    dataPoints: [{ timeUnixNano: '6', asInt: '7' }],
                  },
                },
                {
                  name: 'h',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        timeUnixNano: '7',
                        count: '3',
                        sum: 6,
                        bucketCounts: ['1', '2'],
                        explicitBounds: [10],
                      },
                    ],
                  },
                },
                {
                  name: 's',
                  summary: {
                    dataPoints: [
                      {
                        timeUnixNano: '8',
                        count: '2',
                        sum: 3,
                        quantileValues: [{ quantile: 0.5, value: 1 }],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const recs = requestToRecords(
      'metrics',
      decodeRequest('metrics', encodeRequest('metrics', req)),
      't',
      false,
    );
    expect(recs.map((r) => r.body)).toEqual([
      { name: 'g', unit: 'By', type: 'gauge', labels: { a: 'b' }, value: 1.5 },
      { name: 'c', type: 'counter', otlp_type: 'sum', monotonic: true, temporality: 2, labels: {}, value: 7 },
      {
        name: 'h',
        type: 'histogram',
        temporality: 2,
        labels: {},
        count: 3,
        sum: 6,
        value: 6,
        bucket_counts: [1, 2],
        explicit_bounds: [10],
      },
      {
        name: 's',
        type: 'summary',
        labels: {},
        count: 2,
        sum: 3,
        value: 3,
        quantiles: [{ quantile: 0.5, value: 1 }],
      },
    ]);
    const again = requestToRecords(
      'metrics',
      decodeRequest('metrics', encodeRequest('metrics', recordsToRequests(recs).metrics!)),
      't',
      false,
    );
    expect(again.map((r) => r.body)).toEqual(recs.map((r) => r.body));
  });

  it('fuzz: random and mutated protobuf either decodes or throws; decoded input never breaks conversion', () => {
    const valid = Buffer.from(encodeRequest('logs', logsReq));
    let decoded = 0;
    let rejected = 0;
    timeBox(400, (i) => {
      const bytes = i % 2 ? noise(300) : mutate(valid, 3);
      for (const signal of ['logs', 'metrics', 'traces'] as const) {
        let req: Record<string, unknown>;
        try {
          req = decodeRequest(signal, bytes);
        } catch {
          rejected++;
          continue;
        }
        decoded++;
        for (const r of requestToRecords(signal, req, 't', false)) expect(typeof r.time).toBe('bigint');
      }
    });
    expect(rejected).toBeGreaterThan(0);
    expect(decoded).toBeGreaterThan(0);
  });
});
