import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { closeServer, listen } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plusMetrics, plusVersion, PlusSchemaError } from '../src/inputs/nginx-plus.js';
import { mutate, timeBox } from './fuzz.js';
import { startCapture, waitFor } from './helpers.js';

// GAP: NGINX Plus is commercial and cannot run here; free nginx has no /api. These documents are
// written from the ngx_http_api_module schema (nginx.org) and replayed by a local HTTP server.
const responses = (n: number) => ({
  '1xx': 0,
  '2xx': n,
  '3xx': 1,
  '4xx': 2,
  '5xx': 0,
  codes: { '200': n },
  total: n + 3,
});
function documents(requests: number): Record<string, unknown> {
  return {
    connections: { accepted: 4968119, dropped: 0, active: 5, idle: 117 },
    ssl: { handshakes: 79572, handshakes_failed: 21025, session_reuses: 15762 },
    'http/requests': { total: requests, current: 10 },
    'http/server_zones': {
      hg: {
        processing: 7,
        requests: 175276,
        responses: responses(160000),
        discarded: 1234,
        received: 15000000,
        sent: 999999999,
      },
    },
    'http/location_zones': {
      swagger: { requests: 644, responses: responses(600), discarded: 0, received: 64000, sent: 4100000 },
    },
    'http/upstreams': {
      trac: {
        peers: [
          {
            id: 0,
            server: '10.0.0.1:8080',
            name: '10.0.0.1:8080',
            backup: false,
            weight: 1,
            state: 'up',
            active: 1,
            max_conns: 42,
            requests: 1500,
            responses: responses(1400),
            sent: 700000,
            received: 9000000,
            fails: 2,
            unavail: 1,
            health_checks: { checks: 10, fails: 0, unhealthy: 0, last_passed: true },
            downtime: 0,
            selected: '2026-11-24T10:00:00Z',
            header_time: 26,
            response_time: 30,
          },
          {
            id: 1,
            server: '10.0.0.2:8080',
            name: '10.0.0.2:8080',
            backup: true,
            weight: 1,
            state: 'unhealthy',
            active: 0,
            requests: 0,
            responses: responses(0),
            sent: 0,
            received: 0,
            fails: 0,
            unavail: 0,
            health_checks: { checks: 10, fails: 10, unhealthy: 1 },
            downtime: 1000,
          },
        ],
        keepalive: 3,
        zombies: 0,
        zone: 'trac',
      },
    },
    'stream/server_zones': {
      mysql: {
        processing: 1,
        connections: 900,
        sessions: { '2xx': 890, '4xx': 5, '5xx': 5, total: 900 },
        discarded: 0,
        received: 300,
        sent: 9000,
      },
    },
    'stream/upstreams': {
      mysql_backends: {
        peers: [
          {
            id: 0,
            server: '10.0.0.9:3306',
            name: '10.0.0.9:3306',
            backup: false,
            weight: 1,
            state: 'draining',
            active: 1,
            max_conns: 30,
            connections: 890,
            connect_time: 1,
            first_byte_time: 2,
            response_time: 11,
            sent: 300,
            received: 9000,
            fails: 0,
            unavail: 0,
            health_checks: { checks: 3, fails: 0, unhealthy: 0 },
            downtime: 0,
          },
        ],
        zombies: 1,
        zone: 'mysql_backends',
      },
    },
  };
}

/** Replays the documents under /api/<version>/…; sections in `missing` answer 404 as Plus does. */
async function plusServer(opts: { versions: number[]; missing?: string[]; broken?: string }) {
  let requests = 31070465;
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    hits.push(url);
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url === '/api/') return send(200, opts.versions);
    const m = /^\/api\/(\d+)\/(.+)$/.exec(url);
    const docs = documents(requests);
    if (!m || !opts.versions.includes(Number(m[1])) || opts.missing?.includes(m[2]!) || !(m[2]! in docs)) {
      return send(404, { error: { status: 404, text: 'path not found', code: 'PathNotFound' }, href: url });
    }
    if (m[2] === opts.broken) return res.writeHead(200).end('{"accepted": "many"');
    if (m[2] === 'http/requests') requests += 5;
    send(200, docs[m[2]!]);
  });
  return { port: await listen(server), hits, close: () => closeServer(server) };
}

describe('nginx_metrics with nginx_plus on (Plus API replayed from documents)', () => {
  let v9: Awaited<ReturnType<typeof plusServer>>;
  let v4: Awaited<ReturnType<typeof plusServer>>;
  let broken: Awaited<ReturnType<typeof plusServer>>;
  let h: Awaited<ReturnType<typeof startCapture>>;
  beforeAll(async () => {
    v9 = await plusServer({ versions: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    v4 = await plusServer({ versions: [3, 4], missing: ['stream/server_zones', 'stream/upstreams'] });
    broken = await plusServer({ versions: [9], broken: 'connections' });
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: nginx_metrics, nginx_plus: on, host: 127.0.0.1, port: ${v9.port}, status_url: /api, scrape_interval: 200ms, tag: plus }
    - { name: nginx_metrics, nginx_plus: on, host: 127.0.0.1, port: ${v4.port}, status_url: /api/, scrape_interval: 200ms, tag: plus4 }
    - { name: nginx_metrics, nginx_plus: on, host: 127.0.0.1, port: ${broken.port}, status_url: /api, scrape_interval: 200ms, tag: broken }
  outputs:
    - { name: stdout, match: '*' }
`);
  });
  afterAll(async () => {
    await h?.c.close();
    for (const s of [v9, v4, broken]) await s?.close();
  });
  const of = (tag: string) => (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag);
  /** The records of the first complete scrape (they share one time). */
  const firstScrape = (tag: string) => {
    const all = of(tag);
    return all.filter((r) => r.time === all[0]!.time).map((r) => r.body);
  };

  it('detects the highest API version and reads every section into fluent-bit metric names', async () => {
    await waitFor(() => of('plus').length > 0);
    expect(v9.hits).toContain('/api/');
    expect(v9.hits).toContain('/api/9/http/location_zones');
    const got = firstScrape('plus');
    const find = (name: string, labels?: Record<string, string>) =>
      got.filter((b) => b.name === name && JSON.stringify(b.labels) === JSON.stringify(labels));
    expect(find('nginxplus_up')).toEqual([{ name: 'nginxplus_up', type: 'gauge', value: 1 }]);
    expect(find('nginxplus_connections_accepted')[0]).toMatchObject({ type: 'counter', value: 4968119 });
    expect(find('nginxplus_connections_idle')[0]).toMatchObject({ type: 'gauge', value: 117 });
    expect(find('nginxplus_ssl_handshakes_failed')[0]).toMatchObject({ value: 21025 });
    expect(find('nginxplus_http_requests_current')[0]).toMatchObject({ type: 'gauge', value: 10 });
    expect(find('nginxplus_server_zone_responses', { server_zone: 'hg', code: '2xx' })[0]).toMatchObject({
      type: 'counter',
      value: 160000,
    });
    expect(find('nginxplus_server_zone_processing', { server_zone: 'hg' })[0]).toMatchObject({ value: 7 });
    expect(find('nginxplus_location_zone_sent', { location_zone: 'swagger' })[0]).toMatchObject({
      value: 4100000,
    });
    expect(find('nginxplus_upstream_keepalives', { upstream: 'trac' })[0]).toMatchObject({ value: 3 });
    const peer = { upstream: 'trac', server: '10.0.0.1:8080' };
    expect(find('nginxplus_upstream_server_state', peer)[0]).toMatchObject({ value: 1 });
    expect(find('nginxplus_upstream_server_limit', peer)[0]).toMatchObject({ value: 42 });
    expect(find('nginxplus_upstream_server_header_time', peer)[0]).toMatchObject({ value: 26 });
    expect(find('nginxplus_upstream_server_responses', { ...peer, code: '4xx' })[0]).toMatchObject({
      value: 2,
    });
    expect(
      find('nginxplus_upstream_server_state', { upstream: 'trac', server: '10.0.0.2:8080' })[0],
    ).toMatchObject({ value: 6 });
    expect(
      find('nginxplus_stream_server_zone_sessions', { server_zone: 'mysql', code: '5xx' })[0],
    ).toMatchObject({
      value: 5,
    });
    const sp = { upstream: 'mysql_backends', server: '10.0.0.9:3306' };
    expect(find('nginxplus_stream_upstream_server_state', sp)[0]).toMatchObject({ value: 2 });
    expect(find('nginxplus_stream_upstream_server_first_byte_time', sp)[0]).toMatchObject({ value: 2 });
    expect(find('nginxplus_stream_upstream_zombies', { upstream: 'mysql_backends' })[0]).toMatchObject({
      value: 1,
    });
    expect(got.every((b) => typeof b.value === 'number')).toBe(true);
    expect(of('plus').every((r) => r.kind === 'metric')).toBe(true);
  });

  it('counters follow the server between scrapes', async () => {
    const totals = () =>
      of('plus')
        .filter((r) => r.body.name === 'nginxplus_http_requests_total')
        .map((r) => r.body.value as number);
    await waitFor(() => totals().length >= 2);
    expect(totals()[1]! - totals()[0]!).toBe(5);
  });

  it('API version 4: no location zones requested; stream sections answering 404 are skipped, still up', async () => {
    await waitFor(() => of('plus4').length > 0);
    expect(v4.hits).toContain('/api/4/connections');
    expect(v4.hits.some((u) => u.includes('location_zones'))).toBe(false);
    const got = firstScrape('plus4');
    expect(got.find((b) => b.name === 'nginxplus_up')!.value).toBe(1);
    expect(got.some((b) => String(b.name).startsWith('nginxplus_stream_'))).toBe(false);
    expect(got.some((b) => b.name === 'nginxplus_upstream_server_active')).toBe(true);
  });

  it('a malformed document makes nginxplus_up 0 and is rejected and counted (decode)', async () => {
    await waitFor(() => of('broken').length > 0);
    expect(of('broken')[0]!.body).toEqual({ name: 'nginxplus_up', type: 'gauge', value: 0 });
    expect(await h.c.metrics.metrics()).toMatch(
      /collector_input_rejected_total\{input="nginx_metrics.2",reason="decode"\} [1-9]/,
    );
  });
});

describe('Plus API document conversion', () => {
  it('refuses wrong types with a path to the bad field', () => {
    expect(() => plusVersion({})).toThrow(PlusSchemaError);
    expect(() => plusVersion([1, 'x'])).toThrow(/bad API version/);
    expect(() => plusMetrics('connections', { accepted: -1 })).toThrow(/connections.accepted/);
    expect(() => plusMetrics('http/upstreams', { u: { peers: [{ server: 'a', state: 'sleepy' }] } })).toThrow(
      /peers\[0\].state/,
    );
    expect(() => plusMetrics('http/server_zones', { z: 5 })).toThrow(/http\/server_zones.z/);
    expect(() => plusMetrics('ssl', [])).toThrow(PlusSchemaError);
  });

  it('fuzz: mutated documents either convert to finite metrics or throw PlusSchemaError', () => {
    const docs = documents(1);
    const paths = Object.keys(docs) as Array<Parameters<typeof plusMetrics>[0]>;
    let refused = 0;
    timeBox(500, (i) => {
      const path = paths[i % paths.length]!;
      const text = mutate(Buffer.from(JSON.stringify(docs[path])), 1 + (i % 6)).toString('latin1');
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        return;
      }
      try {
        for (const m of plusMetrics(path, doc)) {
          expect(Number.isFinite(m.value)).toBe(true);
          expect(m.name.startsWith('nginxplus_')).toBe(true);
        }
      } catch (err) {
        expect(err).toBeInstanceOf(PlusSchemaError);
        refused++;
      }
    });
    expect(refused).toBeGreaterThan(0);
  });
});

describe('the nginx Plus example in the README', () => {
  it('runs as written against the replayed API (port swapped)', async () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const yaml =
      /```yaml\n(pipeline:\n {2}inputs:\n {4}- name: nginx_metrics\n {6}nginx_plus: on[^`]*)```/.exec(
        readme,
      )![1]!;
    const api = await plusServer({ versions: [8] });
    const h = await startCapture(
      `service: { flush: 0.05 }\n${yaml.replace('port: 8080', `port: ${api.port}`).replace('scrape_interval: 10s', 'scrape_interval: 100ms')}`,
    );
    try {
      await waitFor(() => (h.got.get('stdout.0') ?? []).some((r) => r.body.name === 'nginxplus_up'));
      expect((h.got.get('stdout.0') ?? []).find((r) => r.body.name === 'nginxplus_up')!.body.value).toBe(1);
    } finally {
      await h.c.close();
      await api.close();
    }
  });
});
