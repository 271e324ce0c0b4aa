import { createSocket, type Socket } from 'node:dgram';
import { z } from 'zod';
import { bool, port } from '../config/values.js';
import { CollectorError } from '../errors.js';
import { parseStatsdPacket, type StatsdSample } from '../parsers/statsd.js';
import type { InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord, type MetricBody } from '../types.js';

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

/** Metric-mode body: counters scaled by 1/sample_rate; sets count one member. */
function metricBody(s: StatsdSample): MetricBody {
  const type = s.type === 'set' ? 'set' : s.type === 'distribution' ? 'histogram' : s.type;
  const value =
    s.type === 'set' ? 1 : s.type === 'counter' ? (s.value as number) / s.sampleRate : (s.value as number);
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
    let sock: Socket | undefined;
    let batch: CollectorRecord[] = [];
    let bytes = 0;
    let scheduled = false;
    const flush = () => {
      const b = batch;
      const n = bytes;
      batch = [];
      bytes = 0;
      scheduled = false;
      ctx.emit(b, n).catch(() => undefined);
    };
    return {
      async start() {
        sock = createSocket(o.listen.includes(':') ? 'udp6' : 'udp4');
        sock.on('message', (msg) => {
          const { samples, errors } = parseStatsdPacket(msg.toString('utf8'));
          for (const e of errors) ctx.reject('malformed', e);
          const time = nowNs();
          for (const s of samples) {
            batch.push(
              o.metrics
                ? { time, tag: ctx.tag, kind: 'metric', body: metricBody(s) }
                : { time, tag: ctx.tag, body: logBody(s) },
            );
          }
          bytes += msg.length;
          if (batch.length && !scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        });
        await new Promise<void>((resolve, reject) => {
          sock!.once('error', (err) =>
            reject(
              new CollectorError(
                'SPROUT_ERR_COLLECTOR_LISTEN',
                `cannot bind udp ${o.listen}:${o.port}: ${err.message}`,
                'statsd.port',
              ),
            ),
          );
          sock!.bind(o.port, o.listen, () => resolve());
        });
      },
      close: async () => void sock?.close(),
      address: () => {
        const a = sock!.address();
        return { host: a.address, port: a.port };
      },
    };
  },
};
