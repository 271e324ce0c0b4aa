import { z } from 'zod';
import { bool, port } from '../config/values.js';
import { parseStatsdPacket, type StatsdSample } from '../parsers/statsd.js';
import type { InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord, type MetricBody } from '../types.js';
import { datagramBatcher } from './net.js';
import { udpListener } from './udp-listener.js';

const schema = z.strictObject({
  listen: z.string().default('0.0.0.0'),
  port: port.default(8125),
  metrics: bool.default(false),
});

/** fluent-bit's log-mode record: type, bucket, value, sample_rate (+ incremental for gauges, tags). */
function logBody(s: StatsdSample): Record<string, unknown> {
  const b: Record<string, unknown> = {
    type: s.type,
    bucket: s.name,
    value: s.value,
    sample_rate: s.sampleRate,
  };
  if (s.type === 'gauge') b.incremental = s.incremental ? 1 : 0;
  if (s.tags) b.tags = s.tags;
  return b;
}

/**
 * Metric-mode body: counters and gauges scaled by 1/sample_rate as fluent-bit does
 * (`active:+99|g|@0.01` is 9900); sets count one member.
 */
function metricBody(s: StatsdSample): MetricBody {
  const type = s.type === 'set' ? 'set' : s.type === 'distribution' ? 'histogram' : s.type;
  const scaled = s.type === 'counter' || s.type === 'gauge';
  const value = s.type === 'set' ? 1 : scaled ? (s.value as number) / s.sampleRate : (s.value as number);
  const b: MetricBody = { name: s.name, type, value };
  if (s.type === 'set') b.member = s.value;
  if (s.incremental) b.incremental = true;
  if (s.tags) b.labels = s.tags;
  return b;
}

/**
 * `statsd`: UDP lines with counters, gauges (absolute and +/-), timers, histograms, sets,
 * distributions, sample rates and DogStatsD `#tags`. `metrics: off` (default) emits fluent-bit's
 * log records; `metrics: on` emits metric records. Malformed lines are rejected and counted; the
 * rest of the datagram is kept.
 */
export const statsdInput: InputPlugin<typeof schema> = {
  name: 'statsd',
  schema,
  create(o, ctx) {
    const push = datagramBatcher(ctx);
    const udp = udpListener(
      {
        listen: o.listen,
        port: o.port,
        field: 'statsd.port',
        onDropped: (n) => ctx.dropped(n, 'receive_queue_full'),
      },
      (buf, start, end) => {
        const msg = buf.subarray(start, end);
        if (push.skip()) return;
        const { samples, errors } = parseStatsdPacket(msg.toString('utf8'));
        for (const e of errors) ctx.reject('malformed', e);
        const time = nowNs();
        push(
          samples.map((s): CollectorRecord =>
            o.metrics
              ? { time, tag: ctx.tag, kind: 'metric', body: metricBody(s) }
              : { time, tag: ctx.tag, body: logBody(s) },
          ),
          msg.length,
        );
      },
    );
    return udp;
  },
};
