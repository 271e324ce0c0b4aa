import StatsD from 'hot-shots';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run, startCapture, waitFor } from './helpers.js';

// Real peer: hot-shots (and socat for a malformed datagram).
describe('statsd input with hot-shots', () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  beforeAll(async () => {
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: statsd, listen: 127.0.0.1, port: 0, tag: sd.log }
    - { name: statsd, listen: 127.0.0.1, port: 0, tag: sd.metrics, metrics: on }
  outputs:
    - { name: stdout, match: 'sd.*' }
`);
  });
  afterAll(() => h.c.close());
  const of = (tag: string) => (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag);

  const send = async (port: number, fn: (c: StatsD) => void) => {
    const client = new StatsD({ host: '127.0.0.1', port, protocol: 'udp', maxBufferSize: 0 });
    // hot-shots samples on the client (drops 1 - rate of calls); make it send every call so the
    // test is deterministic while the wire format (`|@rate`) stays the peer's own.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    fn(client);
    random.mockRestore();
    await new Promise<void>((r) => client.close(() => r()));
  };

  it('log mode: counters, gauges, timers, sets, histograms with sample rates and tags', async () => {
    await send(h.port(0), (c) => {
      c.increment('clicks', 10, 0.1, { page: 'home' });
      c.gauge('active', 99);
      c.gaugeDelta('active', -3);
      c.timing('resp', 42);
      c.set('visitors', 'alice');
      c.histogram('size', 7, ['env:test']);
    });
    await waitFor(() => of('sd.log').length === 6);
    const bodies = of('sd.log').map((r) => r.body);
    expect(bodies).toContainEqual({
      type: 'counter',
      bucket: 'clicks',
      value: 10,
      sample_rate: 0.1,
      tags: { page: 'home' },
    });
    expect(bodies).toContainEqual({
      type: 'gauge',
      bucket: 'active',
      value: 99,
      sample_rate: 1,
      incremental: 0,
    });
    expect(bodies).toContainEqual({
      type: 'gauge',
      bucket: 'active',
      value: -3,
      sample_rate: 1,
      incremental: 1,
    });
    expect(bodies).toContainEqual({ type: 'timer', bucket: 'resp', value: 42, sample_rate: 1 });
    expect(bodies).toContainEqual({ type: 'set', bucket: 'visitors', value: 'alice', sample_rate: 1 });
    expect(bodies).toContainEqual({
      type: 'histogram',
      bucket: 'size',
      value: 7,
      sample_rate: 1,
      tags: { env: 'test' },
    });
  });

  it('metrics mode: metric records, counters scaled by the sample rate', async () => {
    await send(h.port(1), (c) => {
      c.increment('hits', 2, 0.5);
      c.gauge('temp', 21.5, ['room:a']);
    });
    await waitFor(() => of('sd.metrics').length === 2);
    expect(of('sd.metrics').every((r) => r.kind === 'metric')).toBe(true);
    expect(of('sd.metrics').map((r) => r.body)).toEqual(
      expect.arrayContaining([
        { name: 'hits', type: 'counter', value: 4 },
        { name: 'temp', type: 'gauge', value: 21.5, labels: { room: 'a' } },
      ]),
    );
  });

  it("metrics mode: fluent-bit's documented example (counters and gauges scaled by the sample rate)", async () => {
    // pipeline/inputs/statsd.md of fluent/fluent-bit-docs: the three lines and the values it shows.
    for (const line of [
      'click:+10|c|@0.01|#hello:tag',
      'active:+99|g|@0.01',
      'inactive:29|g|@0.0125|#hi:from_fluent-bit',
    ])
      await run('bash', ['-c', `printf '%s' '${line}' | socat -u - UDP:127.0.0.1:${h.port(1)}`]);
    const docs = () =>
      of('sd.metrics').filter((r) => ['click', 'active', 'inactive'].includes(String(r.body.name)));
    await waitFor(() => docs().length === 3);
    expect(docs().map((r) => r.body)).toEqual(
      expect.arrayContaining([
        { name: 'click', type: 'counter', value: 1000, incremental: true, labels: { hello: 'tag' } },
        { name: 'active', type: 'gauge', value: 9900, incremental: true },
        { name: 'inactive', type: 'gauge', value: 2320, labels: { hi: 'from_fluent-bit' } },
      ]),
    );
  });

  it('a malformed line is rejected and counted; good lines in the same datagram survive', async () => {
    await run('bash', ['-c', `printf 'good:1|c\\nbroken|zz\\n' | socat -u - UDP:127.0.0.1:${h.port(0)}`]);
    await waitFor(() => of('sd.log').some((r) => r.body.bucket === 'good'));
    await waitFor(async () =>
      /collector_input_rejected_total\{input="statsd.0",reason="malformed"\} 1/.test(
        await h.c.metrics.metrics(),
      ),
    );
  });
});
