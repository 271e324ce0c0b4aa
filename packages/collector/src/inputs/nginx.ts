import { z } from 'zod';
import { bool, port } from '../config/values.js';
import { parseStubStatus } from '../parsers/nginx.js';
import type { InputPlugin } from '../plugin.js';
import { nowNs, type CollectorRecord, type MetricBody } from '../types.js';

/** `5`, `5s`, `500ms`, `1m` → seconds. */
const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(String(v));
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a duration (use e.g. 5s, 500ms)` });
    return z.NEVER;
  }
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] ?? 's']!;
});

const schema = z
  .strictObject({
    host: z.string().default('localhost'),
    port: port.default(80),
    status_url: z.string().default('/status'),
    nginx_plus: bool.default(false),
    scrape_interval: duration.default(5),
  })
  .refine((o) => !o.nginx_plus, {
    message: 'nginx_plus is not supported yet (stub_status only)',
    path: ['nginx_plus'],
  });

/**
 * `nginx_metrics` (also `nginx`): scrapes nginx's stub_status page every `scrape_interval` into
 * metric records named as fluent-bit names them (`nginx_connections_active`,
 * `nginx_http_requests_total`, …) plus `nginx_up` (0 when the scrape failed).
 * `nginx_plus: on` is refused: the Plus API is not implemented.
 */
export const nginxInput: InputPlugin<typeof schema> = {
  name: 'nginx_metrics',
  aliases: ['nginx'],
  schema,
  create(o, ctx) {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    const url = `http://${host}:${o.port}${o.status_url}`;
    const scrape = async () => {
      const time = nowNs();
      const metric = (name: string, type: MetricBody['type'], value: number): CollectorRecord => ({
        time,
        tag: ctx.tag,
        kind: 'metric',
        body: { name, type, value } satisfies MetricBody,
      });
      let records: CollectorRecord[];
      try {
        const res = await fetch(url, {
          signal: AbortSignal.timeout(Math.max(1000, o.scrape_interval * 1000)),
        });
        const text = await res.text();
        const s = res.ok ? parseStubStatus(text) : undefined;
        if (!s) {
          ctx.reject('decode', { url, status: res.status, sample: text.slice(0, 80) });
          records = [metric('nginx_up', 'gauge', 0)];
        } else {
          records = [
            metric('nginx_up', 'gauge', 1),
            metric('nginx_connections_active', 'gauge', s.active),
            metric('nginx_connections_accepted', 'counter', s.accepted),
            metric('nginx_connections_handled', 'counter', s.handled),
            metric('nginx_http_requests_total', 'counter', s.requests),
            metric('nginx_connections_reading', 'gauge', s.reading),
            metric('nginx_connections_writing', 'gauge', s.writing),
            metric('nginx_connections_waiting', 'gauge', s.waiting),
          ];
        }
      } catch (err) {
        ctx.log.debug({ url, err: (err as Error).message }, 'nginx scrape failed');
        records = [metric('nginx_up', 'gauge', 0)];
      }
      await ctx.emit(records, 0).catch(() => undefined);
    };
    const loop = () => {
      running = scrape().finally(() => {
        if (timer !== undefined) timer = setTimeout(loop, o.scrape_interval * 1000);
      });
    };
    return {
      async start() {
        timer = setTimeout(loop, 0);
      },
      async close() {
        clearTimeout(timer);
        timer = undefined;
        await running;
      },
    };
  },
};
