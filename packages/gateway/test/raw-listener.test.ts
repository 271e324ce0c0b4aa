import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startGateway, staticUpstream, type TestGateway, until } from './harness.js';

// The raw client-side listener (`listener: 'raw'`, the default) on raw sockets: keep-alive and
// pipelined simple requests, connections handed to node:http mid-way (a body, Connection: close,
// malformed heads), HEAD and chunked answers, and the listener's own limits.
function echo(): Promise<Server> {
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/chunked') {
        res.write('one,');
        setTimeout(() => res.end('two'), 20);
        return;
      }
      const body = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

/** A client connection that collects what the gateway sends and whether it closed. */
function client(port: number): Promise<{ socket: Socket; text: () => string; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let text = '';
    let closed = false;
    const socket = connect(port, '127.0.0.1', () =>
      resolve({ socket, text: () => text, closed: () => closed }),
    );
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => (closed = true));
    socket.on('error', reject);
  });
}

/** Complete responses in `text` (Content-Length or chunked framing), in order. */
function responses(text: string): { status: number; head: string; body: string }[] {
  const out: { status: number; head: string; body: string }[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return out;
    const head = rest.slice(0, end);
    let body: string;
    let after = rest.slice(end + 4);
    const len = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (len) {
      if (after.length < Number(len[1])) return out;
      body = after.slice(0, Number(len[1]));
      after = after.slice(Number(len[1]));
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const last = after.indexOf('0\r\n\r\n');
      if (last < 0) return out;
      body = after.slice(0, last).replace(/(^|\r\n)[0-9a-f]+\r\n/g, '');
      after = after.slice(last + 5);
    } else {
      body = '';
    }
    out.push({ status: Number(head.split(' ')[1]), head, body });
    rest = after;
  }
}

describe('raw client-side listener', () => {
  let srv: Server;
  let t: TestGateway;
  const req = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: gw.test\r\n${extra}\r\n`;

  beforeAll(async () => {
    srv = await echo();
    const port = (srv.address() as { port: number }).port;
    const upstream = staticUpstream('echo', port);
    t = await startGateway({ limits: { headersTimeoutMs: 1_000, keepAliveTimeoutMs: 1_500 } });
    t.gw.setRoutes([
      {
        upstream,
        scaling: { minReplicas: 1, maxReplicas: 1 },
        pathPrefixes: ['/fn'],
        options: { stripPrefix: true },
      },
    ]);
  });
  afterAll(async () => {
    await t.gw.close();
    await new Promise((r) => srv.close(r));
  });

  it('answers keep-alive and pipelined requests on one connection, in order, with forwarding headers', async () => {
    const c = await client(t.port);
    c.socket.write(req('/fn/a?x=1'));
    await until(() => responses(c.text()).length === 1);
    c.socket.write(req('/fn/b') + req('/fn/c', 'X-Extra: yes\r\n'));
    await until(() => responses(c.text()).length === 3);
    const rs = responses(c.text());
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
    const bodies = rs.map((r) => JSON.parse(r.body) as { url: string; headers: Record<string, string> });
    expect(bodies.map((b) => b.url)).toEqual(['/a?x=1', '/b', '/c']);
    expect(bodies[2]!.headers['x-extra']).toBe('yes');
    expect(bodies[0]!.headers['x-forwarded-host']).toBe('gw.test');
    expect(bodies[0]!.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(rs[0]!.head).toMatch(/\r\nConnection: keep-alive\r\nKeep-Alive: timeout=1(\r\n|$)/);
    expect(rs[0]!.head).toMatch(/\r\nx-sprout-cold-start: false/i);
    expect(c.closed()).toBe(false);
    c.socket.destroy();
  });

  it('hands a connection to node:http at a request with a body, keeping the bytes, and goes on there', async () => {
    const c = await client(t.port);
    c.socket.write(req('/fn/first'));
    await until(() => responses(c.text()).length === 1);
    c.socket.write(
      'POST /fn/post HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\n\r\nhello' + req('/fn/after'),
    );
    await until(() => responses(c.text()).length === 3);
    const bodies = responses(c.text()).map(
      (r) => JSON.parse(r.body) as { method: string; url: string; body: string },
    );
    expect(bodies.map((b) => `${b.method} ${b.url} ${b.body}`)).toEqual([
      'GET /first ',
      'POST /post hello',
      'GET /after ',
    ]);
    c.socket.destroy();
  });

  it('answers Connection: close and closes, and passes malformed heads to node:http (coded 400)', async () => {
    const c = await client(t.port);
    c.socket.write(req('/fn/x', 'Connection: close\r\n'));
    await until(() => c.closed());
    expect(responses(c.text()).map((r) => r.status)).toEqual([200]);
    const d = await client(t.port);
    d.socket.write('GET /fn/x HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n');
    await until(() => d.closed());
    expect(d.text()).toMatch(/^HTTP\/1\.1 400 /);
    expect(d.text()).toContain('SPROUT_ERR_HTTP_MALFORMED_REQUEST');
  });

  it('re-frames a streamed answer as chunked, sends no body to HEAD, and answers unrouted paths 404', async () => {
    const chunked = await get(t.port, '/fn/chunked');
    expect(chunked.status).toBe(200);
    expect(chunked.body).toBe('one,two');
    expect(chunked.headers['transfer-encoding']).toBe('chunked');
    const c = await client(t.port);
    c.socket.write(`HEAD /fn/h HTTP/1.1\r\nHost: a\r\n\r\n` + req('/nowhere'));
    await until(() => c.text().includes('SPROUT_ERR_GATEWAY_NO_ROUTE'));
    const [head, rest] = [
      c.text().split('\r\n\r\n')[0]!,
      c.text().split('\r\n\r\n').slice(1).join('\r\n\r\n'),
    ];
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/\r\ncontent-length: \d+/i);
    // what follows the HEAD answer's head is the next response, not a body
    expect(rest).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    c.socket.destroy();
  });

  it('counts requests in the gateway metrics like node:http ones', async () => {
    const count = async () => {
      const m = /sprout_gateway_requests_total\{function="echo",code="2xx"\} (\d+)/.exec(
        await t.gw.metricsText(),
      );
      return Number(m?.[1] ?? 0);
    };
    const before = await count();
    await get(t.port, '/fn/m1');
    await get(t.port, '/fn/m2', { method: 'POST', body: 'x' });
    await until(async () => (await count()) === before + 2);
    expect(await count()).toBe(before + 2);
    expect(await t.gw.metricsText()).toMatch(
      /sprout_gateway_request_duration_seconds_count\{function="echo"\} \d+/,
    );
  });

  it('answers 408 to a head not complete within the header timeout, and closes idle keep-alive connections', async () => {
    const slow = await client(t.port);
    slow.socket.write('GET /fn/slow HTTP/1.1\r\nHost: a\r\n');
    const idle = await client(t.port);
    idle.socket.write(req('/fn/idle'));
    await until(() => slow.closed() && idle.closed());
    expect(slow.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow.text()).toContain('ERR_HTTP_REQUEST_TIMEOUT');
    expect(responses(idle.text()).map((r) => r.status)).toEqual([200]);
  });
});
