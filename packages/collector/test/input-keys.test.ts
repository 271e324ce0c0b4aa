import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curlPostJson, run, startCapture, waitFor } from './helpers.js';

const logs = (body: unknown, attributes: unknown[] = []) => ({
  resourceLogs: [{ scopeLogs: [{ logRecords: [{ body, attributes }] }] }],
});

const traces = {
  resourceSpans: [
    {
      scopeSpans: [
        {
          spans: [
            {
              traceId: '0123456789abcdef0123456789abcdef',
              spanId: '0123456789abcdef',
              name: 'raw-or-not',
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000000100000000',
            },
          ],
        },
      ],
    },
  ],
};

// Documented keys of the compatibility table not covered elsewhere: curl, socat and ss as peers.
describe('documented input keys: successful_response_code, raw_traces, tag_key, receive_buffer_size, buffer_max_size', () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  beforeAll(async () => {
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, successful_response_code: 200, raw_traces: on, tag: ik.raw, tag_from_uri: off }
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, successful_response_code: 204, tag_key: route }
    - { name: syslog, mode: udp, listen: 127.0.0.1, port: 0, receive_buffer_size: 64K }
    - { name: syslog, mode: tcp, listen: 127.0.0.1, port: 0, tag: ik.syslog, buffer_max_size: 1K }
  outputs:
    - { name: stdout, match: '*' }
`);
  });
  afterAll(() => h.c.close());
  const records = (tag: string) => (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag);

  it('opentelemetry: successful_response_code answers 200 or 204', async () => {
    expect(
      await curlPostJson(`http://127.0.0.1:${h.port(0)}/v1/logs`, JSON.stringify(logs({ stringValue: 'a' }))),
    ).toBe(200);
    expect(
      await curlPostJson(`http://127.0.0.1:${h.port(1)}/v1/logs`, JSON.stringify(logs({ stringValue: 'b' }))),
    ).toBe(204);
  });

  it('opentelemetry: raw_traces routes spans as log records; without it they are traces', async () => {
    expect(await curlPostJson(`http://127.0.0.1:${h.port(0)}/v1/traces`, JSON.stringify(traces))).toBe(200);
    expect(await curlPostJson(`http://127.0.0.1:${h.port(1)}/v1/traces`, JSON.stringify(traces))).toBe(204);
    const raw = await waitFor(() => records('ik.raw').find((r) => r.body.name === 'raw-or-not'));
    expect(raw.kind).toBeUndefined();
    const trace = await waitFor(() => records('v1_traces').find((r) => r.body.name === 'raw-or-not'));
    expect(trace.kind).toBe('trace');
  });

  it('opentelemetry: tag_key takes the tag from the body, else from the attributes', async () => {
    const url = `http://127.0.0.1:${h.port(1)}/v1/logs`;
    const kv = { kvlistValue: { values: [{ key: 'route', value: { stringValue: 'ik.from_body' } }] } };
    expect(await curlPostJson(url, JSON.stringify(logs(kv)))).toBe(204);
    const attr = [{ key: 'route', value: { stringValue: 'ik.from_attr' } }];
    expect(await curlPostJson(url, JSON.stringify(logs({ stringValue: 'x' }, attr)))).toBe(204);
    await waitFor(() => records('ik.from_body').length === 1 && records('ik.from_attr').length === 1);
  });

  it('syslog: receive_buffer_size sets the socket receive buffer (the kernel doubles it)', async () => {
    const { stdout } = await run('ss', ['-uamnH', `sport = :${h.port(2)}`]);
    expect(stdout).toMatch(/rb131072\b/);
  });

  it('syslog: buffer_max_size refuses a longer message and reads the next one', async () => {
    const long = `<13>Jan  5 01:02:03 h app: ${'x'.repeat(2000)}`;
    await run('bash', [
      '-c',
      `printf '%s\\n%s\\n' "$0" "$1" | socat -u - TCP:127.0.0.1:${h.port(3)}`,
      long,
      '<13>Jan  5 01:02:03 h app: short',
    ]);
    await waitFor(() => records('ik.syslog').length === 1);
    expect(records('ik.syslog')[0]!.body.message).toBe('short');
    expect(await h.c.metrics.metrics()).toMatch(
      /collector_input_rejected_total\{input="syslog\.1",reason="too_large"\} 1/,
    );
  });
});
