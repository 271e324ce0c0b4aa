import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture, waitFor } from './helpers.js';

// Garbage at every network input over real sockets: the servers must stay up, count what they
// reject, and still accept a valid message afterwards.
describe('inputs under fuzzed traffic', () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  beforeAll(async () => {
    h = await startCapture(`
service: { flush: 0.02 }
pipeline:
  inputs:
    - { name: tcp, listen: 127.0.0.1, port: 0, tag: f.tcp, buffer_size: 4 }
    - { name: syslog, mode: tcp, listen: 127.0.0.1, port: 0, tag: f.syslog }
    - { name: syslog, mode: udp, listen: 127.0.0.1, port: 0, tag: f.syslogu }
    - { name: statsd, listen: 127.0.0.1, port: 0, tag: f.statsd }
    - { name: collectd, listen: 127.0.0.1, port: 0, tag: f.collectd }
    - { name: mqtt, listen: 127.0.0.1, port: 0, tag: f.mqtt }
    - { name: opentelemetry, listen: 127.0.0.1, port: 0, tag_from_uri: off, tag: f.otlp }
    - { name: tcp, listen: 127.0.0.1, port: 0, tag: f.tcpp, parser: logfmt, buffer_size: 4 }
  outputs:
    - { name: stdout, match: 'f.*' }
`);
  });
  afterAll(() => h.c.close());

  const garbage = () => {
    const b = randomBytes(randomInt(1, 600));
    // Half the time start like the protocol does, to get past the first checks.
    if (randomInt(0, 2)) b[0] = [0x7b, 0x3c, 0x31, 0x10, 0x30][randomInt(0, 5)]!;
    return b;
  };
  const stream = (port: number, n: number) =>
    new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        for (let i = 0; i < n; i++) s.write(garbage());
        s.end();
      });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
  const dgrams = async (port: number, n: number) => {
    const s = createSocket('udp4');
    for (let i = 0; i < n; i++)
      await new Promise<void>((r) => s.send(garbage(), port, '127.0.0.1', () => r()));
    s.close();
  };

  it('stays up, counts rejections, and accepts valid input afterwards', async () => {
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      await Promise.all([
        stream(h.port(0), 20),
        stream(h.port(1), 20),
        stream(h.port(5), 5),
        stream(h.port(7), 20),
        dgrams(h.port(2), 20),
        dgrams(h.port(3), 20),
        dgrams(h.port(4), 20),
      ]);
      await fetch(`http://127.0.0.1:${h.port(6)}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: garbage(),
      }).then((r) => r.arrayBuffer());
    }
    const metrics = await h.c.metrics.metrics();
    // Syslog keeps what it cannot parse (flagged) instead of rejecting it.
    for (const tag of ['f.syslog', 'f.syslogu'])
      expect(
        (h.got.get('stdout.0') ?? []).some((r) => r.tag === tag && r.body.parse_error === true),
        tag,
      ).toBe(true);
    // The parser reads what it can; every other line is kept as {log}.
    expect((h.got.get('stdout.0') ?? []).some((r) => r.tag === 'f.tcpp')).toBe(true);
    for (const id of ['tcp.0', 'statsd.0', 'collectd.0', 'mqtt.0', 'opentelemetry.0']) {
      expect(metrics, id).toMatch(
        new RegExp(
          `collector_input_rejected_total\\{input="${id.replace('.', '\\.')}",reason="[a-z_]+"\\} [1-9]`,
        ),
      );
    }
    // Every input still answers a valid message.
    const before = (tag: string) =>
      (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag && r.body.ok === 'yes').length;
    await new Promise<void>((r) => {
      const s = connect(h.port(0), '127.0.0.1', () => s.end('{"ok":"yes"}\n'));
      s.on('close', () => r());
    });
    await new Promise<void>((r) => {
      const s = connect(h.port(7), '127.0.0.1', () => s.end('ok=yes\n'));
      s.on('close', () => r());
    });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${h.port(5)}`, { reconnectPeriod: 0 });
    await client.publishAsync('t', '{"ok":"yes"}', { qos: 1 });
    await client.endAsync();
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.send('ok:1|c', h.port(3), '127.0.0.1', () => r()));
    s.close();
    const res = await fetch(`http://127.0.0.1:${h.port(6)}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: [
                  { body: { kvlistValue: { values: [{ key: 'ok', value: { stringValue: 'yes' } }] } } },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(res.status).toBe(201);
    await waitFor(
      () =>
        before('f.tcp') === 1 && before('f.tcpp') === 1 && before('f.mqtt') === 1 && before('f.otlp') === 1,
    );
    await waitFor(() =>
      (h.got.get('stdout.0') ?? []).some((r) => r.tag === 'f.statsd' && r.body.bucket === 'ok'),
    );
  });
});
