import { z } from 'zod';
import { bool, duration, port } from '../config/values.js';
import { parseStubStatus } from '../parsers/nginx.js';
import type { InputPlugin } from '../plugin.js';
import { plusEndpoints, plusMetrics, PlusSchemaError, plusVersion } from './nginx-plus.js';
import { nowNs, type CollectorRecord, type MetricBody } from '../types.js';

const schema = z.strictObject({
  host: z.string().default('localhost'),
  port: port.default(80),
  status_url: z.string().default('/status'),
  nginx_plus: bool.default(false),
  scrape_interval: duration.default(5),
});

/** Largest API document read (a Plus instance with thousands of zones stays well below). */
const MAX_DOC = 16 * 1024 * 1024;

/**
 * `nginx_metrics` (also `nginx`): scrapes nginx's stub_status page every `scrape_interval` into
 * metric records named as fluent-bit names them (`nginx_connections_active`,
 * `nginx_http_requests_total`, …) plus `nginx_up` (0 when the scrape failed). With `nginx_plus: on`
 * it reads the NGINX Plus REST API under `status_url` instead (version from `{status_url}/`) into
 * fluent-bit's `nginxplus_*` metrics plus `nginxplus_up`.
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
    const timeout = Math.max(1000, o.scrape_interval * 1000);
    const base = url.replace(/\/+$/, '');
    /** GETs a Plus API document: undefined on 404 when `optional`; throws on anything else. */
    const getJson = async (path: string, optional: boolean): Promise<unknown> => {
      const res = await fetch(`${base}/${path}`, { signal: AbortSignal.timeout(timeout) });
      const text = await res.text();
      if (res.status === 404 && optional) return undefined;
      if (!res.ok) throw new Error(`${base}/${path} answered ${res.status}`);
      if (text.length > MAX_DOC) throw new PlusSchemaError(`${path}: document larger than ${MAX_DOC} bytes`);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new PlusSchemaError(`${path}: not JSON (${JSON.stringify(text.slice(0, 60))})`);
      }
    };
    const scrapePlus = async (): Promise<MetricBody[]> => {
      const version = plusVersion(await getJson('', false));
      const wanted = plusEndpoints.filter((e) => !('minVersion' in e) || version >= e.minVersion);
      const docs = await Promise.all(wanted.map((e) => getJson(`${version}/${e.path}`, e.optional)));
      const out: MetricBody[] = [];
      for (const [i, e] of wanted.entries()) {
        if (docs[i] !== undefined) for (const m of plusMetrics(e.path, docs[i])) out.push(m);
      }
      return out;
    };
    const scrape = async () => {
      const time = nowNs();
      const record = (body: MetricBody): CollectorRecord => ({ time, tag: ctx.tag, kind: 'metric', body });
      const metric = (name: string, type: MetricBody['type'], value: number): CollectorRecord =>
        record({ name, type, value });
      let records: CollectorRecord[];
      if (o.nginx_plus) {
        try {
          records = [metric('nginxplus_up', 'gauge', 1), ...(await scrapePlus()).map(record)];
        } catch (err) {
          if (err instanceof PlusSchemaError) ctx.reject('decode', { url: base, error: err.message });
          else ctx.log.debug({ url: base, err: (err as Error).message }, 'nginx plus scrape failed');
          records = [metric('nginxplus_up', 'gauge', 0)];
        }
        await ctx.emit(records, 0).catch(() => undefined);
        return;
      }
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeout) });
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
