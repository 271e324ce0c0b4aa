import type { MetricBody } from '../types.js';

/**
 * NGINX Plus REST API (ngx_http_api_module) → metric bodies with fluent-bit's `nginxplus_*` names.
 * The API version is the highest one `{status_url}/` lists; location zones need version 5 or later.
 */

type Json = Record<string, unknown>;
export type Metric = MetricBody;

/** A document that is not what the API schema says; the scrape is rejected (`decode`). */
export class PlusSchemaError extends Error {}

/** Upstream peer states as numbers (the mapping nginx-prometheus-exporter uses). */
const peerStates: Record<string, number> = {
  up: 1,
  draining: 2,
  down: 3,
  unavail: 4,
  checking: 5,
  unhealthy: 6,
};

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function num(v: unknown, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
    throw new PlusSchemaError(`${where}: expected a non-negative number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function obj(v: unknown, where: string): Json {
  if (!isObj(v)) throw new PlusSchemaError(`${where}: expected an object`);
  return v;
}

/** Picks the API version: the highest integer of the `/` document. */
export function plusVersion(doc: unknown): number {
  if (!Array.isArray(doc) || doc.length === 0)
    throw new PlusSchemaError('/: expected a list of API versions');
  let max = 0;
  for (const v of doc) {
    if (!Number.isInteger(v) || (v as number) < 1)
      throw new PlusSchemaError(`/: bad API version ${JSON.stringify(v)}`);
    max = Math.max(max, v as number);
  }
  return max;
}

class Out {
  readonly list: Metric[] = [];
  add(
    name: string,
    type: 'counter' | 'gauge',
    v: unknown,
    where: string,
    labels?: Record<string, string>,
  ): void {
    const value = num(v, where);
    if (value === undefined) return;
    this.list.push({ name, type, value, ...(labels ? { labels } : {}) });
  }
  /** `{1xx: n, 2xx: n, …}` → one series per class in label `code` (`total` and `codes` skipped). */
  classes(name: string, v: unknown, where: string, labels: Record<string, string>): void {
    if (v === undefined) return;
    for (const [k, n] of Object.entries(obj(v, where))) {
      if (/^[1-5]xx$/.test(k)) this.add(name, 'counter', n, `${where}.${k}`, { ...labels, code: k });
    }
  }
}

/** The endpoints scraped, relative to `{status_url}/{version}`; `optional` ones may answer 404. */
export const plusEndpoints = [
  { path: 'connections', optional: false },
  { path: 'ssl', optional: true },
  { path: 'http/requests', optional: false },
  { path: 'http/server_zones', optional: true },
  { path: 'http/location_zones', optional: true, minVersion: 5 },
  { path: 'http/upstreams', optional: true },
  { path: 'stream/server_zones', optional: true },
  { path: 'stream/upstreams', optional: true },
] as const;

export type PlusPath = (typeof plusEndpoints)[number]['path'];

function peers(
  out: Out,
  prefix: 'nginxplus_upstream_server' | 'nginxplus_stream_upstream_server',
  upstream: string,
  list: unknown,
  where: string,
): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new PlusSchemaError(`${where}: expected a list of peers`);
  for (const [i, p] of list.entries()) {
    const w = `${where}[${i}]`;
    const peer = obj(p, w);
    if (typeof peer.server !== 'string') throw new PlusSchemaError(`${w}.server: expected a string`);
    const labels = { upstream, server: peer.server };
    out.add(`${prefix}_active`, 'gauge', peer.active, `${w}.active`, labels);
    out.add(`${prefix}_fails`, 'counter', peer.fails, `${w}.fails`, labels);
    out.add(`${prefix}_unavail`, 'counter', peer.unavail, `${w}.unavail`, labels);
    out.add(`${prefix}_received`, 'counter', peer.received, `${w}.received`, labels);
    out.add(`${prefix}_sent`, 'counter', peer.sent, `${w}.sent`, labels);
    out.add(`${prefix}_limit`, 'gauge', peer.max_conns ?? 0, `${w}.max_conns`, labels);
    out.add(`${prefix}_response_time`, 'gauge', peer.response_time ?? 0, `${w}.response_time`, labels);
    if (typeof peer.state !== 'string' || !(peer.state in peerStates)) {
      throw new PlusSchemaError(`${w}.state: expected one of ${Object.keys(peerStates).join(', ')}`);
    }
    out.add(`${prefix}_state`, 'gauge', peerStates[peer.state], `${w}.state`, labels);
    if (prefix === 'nginxplus_upstream_server') {
      out.add(`${prefix}_requests`, 'counter', peer.requests, `${w}.requests`, labels);
      out.add(`${prefix}_header_time`, 'gauge', peer.header_time ?? 0, `${w}.header_time`, labels);
      out.classes(`${prefix}_responses`, peer.responses, `${w}.responses`, labels);
    } else {
      out.add(`${prefix}_connections`, 'counter', peer.connections, `${w}.connections`, labels);
      out.add(`${prefix}_connect_time`, 'gauge', peer.connect_time ?? 0, `${w}.connect_time`, labels);
      out.add(
        `${prefix}_first_byte_time`,
        'gauge',
        peer.first_byte_time ?? 0,
        `${w}.first_byte_time`,
        labels,
      );
    }
  }
}

/** Converts one endpoint's document into metrics. Throws PlusSchemaError on a malformed document. */
export function plusMetrics(path: PlusPath, doc: unknown): Metric[] {
  const out = new Out();
  const d = obj(doc, path);
  switch (path) {
    case 'connections':
      out.add('nginxplus_connections_accepted', 'counter', d.accepted, 'connections.accepted');
      out.add('nginxplus_connections_dropped', 'counter', d.dropped, 'connections.dropped');
      out.add('nginxplus_connections_active', 'gauge', d.active, 'connections.active');
      out.add('nginxplus_connections_idle', 'gauge', d.idle, 'connections.idle');
      break;
    case 'ssl':
      out.add('nginxplus_ssl_handshakes', 'counter', d.handshakes, 'ssl.handshakes');
      out.add('nginxplus_ssl_handshakes_failed', 'counter', d.handshakes_failed, 'ssl.handshakes_failed');
      out.add('nginxplus_ssl_session_reuses', 'counter', d.session_reuses, 'ssl.session_reuses');
      break;
    case 'http/requests':
      out.add('nginxplus_http_requests_total', 'counter', d.total, 'http/requests.total');
      out.add('nginxplus_http_requests_current', 'gauge', d.current, 'http/requests.current');
      break;
    case 'http/server_zones':
      for (const [zone, z] of Object.entries(d)) {
        const w = `${path}.${zone}`;
        const v = obj(z, w);
        const l = { server_zone: zone };
        out.add('nginxplus_server_zone_processing', 'gauge', v.processing, `${w}.processing`, l);
        out.add('nginxplus_server_zone_requests', 'counter', v.requests, `${w}.requests`, l);
        out.add('nginxplus_server_zone_discarded', 'counter', v.discarded, `${w}.discarded`, l);
        out.add('nginxplus_server_zone_received', 'counter', v.received, `${w}.received`, l);
        out.add('nginxplus_server_zone_sent', 'counter', v.sent, `${w}.sent`, l);
        out.classes('nginxplus_server_zone_responses', v.responses, `${w}.responses`, l);
      }
      break;
    case 'http/location_zones':
      for (const [zone, z] of Object.entries(d)) {
        const w = `${path}.${zone}`;
        const v = obj(z, w);
        const l = { location_zone: zone };
        out.add('nginxplus_location_zone_requests', 'counter', v.requests, `${w}.requests`, l);
        out.add('nginxplus_location_zone_discarded', 'counter', v.discarded, `${w}.discarded`, l);
        out.add('nginxplus_location_zone_received', 'counter', v.received, `${w}.received`, l);
        out.add('nginxplus_location_zone_sent', 'counter', v.sent, `${w}.sent`, l);
        out.classes('nginxplus_location_zone_responses', v.responses, `${w}.responses`, l);
      }
      break;
    case 'http/upstreams':
      for (const [name, u] of Object.entries(d)) {
        const w = `${path}.${name}`;
        const v = obj(u, w);
        out.add('nginxplus_upstream_keepalives', 'gauge', v.keepalive, `${w}.keepalive`, { upstream: name });
        out.add('nginxplus_upstream_zombies', 'gauge', v.zombies, `${w}.zombies`, { upstream: name });
        peers(out, 'nginxplus_upstream_server', name, v.peers, `${w}.peers`);
      }
      break;
    case 'stream/server_zones':
      for (const [zone, z] of Object.entries(d)) {
        const w = `${path}.${zone}`;
        const v = obj(z, w);
        const l = { server_zone: zone };
        out.add('nginxplus_stream_server_zone_processing', 'gauge', v.processing, `${w}.processing`, l);
        out.add('nginxplus_stream_server_zone_connections', 'counter', v.connections, `${w}.connections`, l);
        out.add('nginxplus_stream_server_zone_discarded', 'counter', v.discarded, `${w}.discarded`, l);
        out.add('nginxplus_stream_server_zone_received', 'counter', v.received, `${w}.received`, l);
        out.add('nginxplus_stream_server_zone_sent', 'counter', v.sent, `${w}.sent`, l);
        out.classes('nginxplus_stream_server_zone_sessions', v.sessions, `${w}.sessions`, l);
      }
      break;
    case 'stream/upstreams':
      for (const [name, u] of Object.entries(d)) {
        const w = `${path}.${name}`;
        const v = obj(u, w);
        out.add('nginxplus_stream_upstream_zombies', 'gauge', v.zombies, `${w}.zombies`, { upstream: name });
        peers(out, 'nginxplus_stream_upstream_server', name, v.peers, `${w}.peers`);
      }
      break;
  }
  return out.list;
}
