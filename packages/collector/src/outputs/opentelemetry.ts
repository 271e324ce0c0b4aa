import { z } from 'zod';
import { many, port } from '../config/values.js';
import { CollectorError } from '../errors.js';
import { recordsToRequests } from '../otlp/convert.js';
import { encodeRequest, type Signal } from '../otlp/proto.js';
import type { OutputPlugin } from '../plugin.js';

/**
 * `opentelemetry`: OTLP/HTTP protobuf to `logs_uri`, `metrics_uri` and `traces_uri`. Records keep
 * the resource and scope they arrived with (`meta.otlp`); other records become log records whose
 * body is the record. Non-2xx answers are retried.
 */
export const opentelemetryOutput: OutputPlugin = {
  name: 'opentelemetry',
  schema: z.strictObject({
    host: z.string().default('127.0.0.1'),
    port: port.default(4318),
    logs_uri: z.string().default('/v1/logs'),
    metrics_uri: z.string().default('/v1/metrics'),
    traces_uri: z.string().default('/v1/traces'),
    header: many.optional(),
  }),
  create(o: {
    host: string;
    port: number;
    logs_uri: string;
    metrics_uri: string;
    traces_uri: string;
    header?: string[];
  }) {
    const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
    for (const h of o.header ?? []) {
      const i = h.search(/\s/);
      if (i > 0) headers[h.slice(0, i)] = h.slice(i).trim();
    }
    const base = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
    const uri: Record<Signal, string> = { logs: o.logs_uri, metrics: o.metrics_uri, traces: o.traces_uri };
    return {
      async write(records) {
        const reqs = recordsToRequests(records);
        for (const [signal, req] of Object.entries(reqs) as Array<[Signal, Record<string, unknown>]>) {
          const res = await fetch(base + uri[signal], {
            method: 'POST',
            headers,
            body: encodeRequest(signal, req),
            signal: AbortSignal.timeout(10_000),
          });
          await res.arrayBuffer();
          if (res.status < 200 || res.status > 299)
            throw new CollectorError(
              'SPROUT_ERR_COLLECTOR_OUTPUT_FAILED',
              `${base}${uri[signal]} answered ${res.status}`,
            );
        }
      },
    };
  },
};
