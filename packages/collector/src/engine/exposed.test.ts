import { describe, expect, it } from 'vitest';
import { exposedInputs } from './exposed.js';

describe('exposedInputs', () => {
  it("names each input on every interface (fluent-bit's default) or on an address of the network, and no other", () => {
    const lines = exposedInputs([
      { id: 'tcp.0', address: { host: '0.0.0.0', port: 5170 } },
      { id: 'http.0', address: { host: '127.0.0.1', port: 9880 } },
      { id: 'http.1', address: { host: '127.3.4.5', port: 9881 } },
      { id: 'forward.0', address: { host: '::', port: 24224 } },
      { id: 'syslog.0', address: { host: '::1', port: 5140 } },
      { id: 'statsd.0', address: { host: '::ffff:127.0.0.1', port: 8125 } },
      { id: 'mqtt.0', address: { host: '192.0.2.7', port: 1883 } },
      { id: 'opentelemetry.0', address: { host: '0.0.0.0', port: 4318, grpcPort: 4317 } },
      { id: 'forward.1', address: { path: '/run/fluent.sock' } },
      { id: 'tail.0' },
    ]);
    expect(lines.map((l) => [l.input, l.host, l.port])).toEqual([
      ['tcp.0', '0.0.0.0', 5170],
      ['forward.0', '::', 24224],
      ['mqtt.0', '192.0.2.7', 1883],
      ['opentelemetry.0', '0.0.0.0', 4318],
    ]);
    expect(lines[0]!.msg).toMatch(
      /other machines on port 5170 \(0\.0\.0\.0\), unauthenticated; set listen: 127\.0\.0\.1/,
    );
    expect(lines[3]!.msg).toContain('on ports 4318 and 4317 (0.0.0.0)');
  });
});
