import { rmSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig } from '../src/index.js';
import { inputRefusal, openSocket, quiet, run, startCapture, waitFor } from './helpers.js';
import { makeTestCerts, type TestCerts } from './tls-certs.js';

/** curl's answer: status, HTTP version and headers (`args` before the URL). */
async function curl(url: string, args: string[] = []) {
  const { stdout } = await run('curl', [
    '-s',
    '-o',
    '/dev/null',
    '-D',
    '-',
    '-w',
    '\n%{http_code} %{http_version}',
    ...args,
    url,
  ]);
  const lines = stdout.trimEnd().split('\n');
  const [status, version] = lines.pop()!.split(' ');
  return { status: Number(status), version: version!, headers: lines.join('\n').toLowerCase() };
}

const json = (body: string) => ['-H', 'content-type: application/json', '-d', body];

/** POSTs `body` with node's HTTP/2 client (h2c with prior knowledge); resolves with the status. */
function postH2(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
    req.on('response', (h) => {
      req.resume();
      req.on('close', () => {
        session.close();
        resolve(Number(h[':status']));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Real peers: curl (HTTP/1.1, h2c with prior knowledge, h2 over TLS by ALPN) and node:http2's client.
describe("http input: fluent-bit's http2, add_remote_addr, http_server.* and health keys", () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  let certs: TestCerts;
  beforeAll(async () => {
    certs = await makeTestCerts();
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: http, listen: 127.0.0.1, port: 0, tag: ho.default, add_remote_addr: on, enable_health_endpoint: on }
    - { name: http, listen: 127.0.0.1, port: 0, tag: ho.h1, http2: off, add_remote_addr: true, remote_addr_key: client }
    - { name: http, listen: 127.0.0.1, port: 0, tag: ho.tls, tls: on, tls.crt_file: ${certs.serverCrt}, tls.key_file: ${certs.serverKey} }
    - name: http
      listen: 127.0.0.1
      port: 0
      tag: ho.limits
      http_server.buffer_max_size: 1K
      http_server.max_connections: 2
      net.keepalive: off
    - { name: http, listen: 127.0.0.1, port: 0, tag: ho.idle, net.io_timeout: 1s, net.backlog: 7, net.tcp_keepalive: on, net.tcp_keepalive_time: 45 }
    - { name: http, listen: 127.0.0.1, port: 0, http_server.idle_timeout: 1s }
    - { name: http, listen: 127.0.0.1, port: 0, net.keepalive_idle_timeout: 1s }
  outputs:
    - { name: stdout, match: 'ho*' }
`);
  }, 60_000);
  afterAll(async () => {
    await h?.c.close();
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });
  const bodies = (tag: string) =>
    (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag).map((r) => r.body);
  const url = (i: number, path = '/') => `http://127.0.0.1:${h.port(i)}${path}`;

  it('serves HTTP/2 with prior knowledge on the same port by default (curl and node:http2)', async () => {
    const r = await curl(url(0, '/ho.h2'), ['--http2-prior-knowledge', ...json('{"via":"curl"}')]);
    expect(r).toMatchObject({ status: 201, version: '2' });
    expect(await postH2(h.port(0), '/ho.h2', '[{"via":"node"},{"via":"node2"}]')).toBe(201);
    // HTTP/1.1 still works on the same port.
    expect(await curl(url(0, '/ho.h2'), json('{"via":"h1"}'))).toMatchObject({ status: 201, version: '1.1' });
    await waitFor(() => bodies('ho.h2').length === 4);
    expect(bodies('ho.h2').map((b) => b.via)).toEqual(['curl', 'node', 'node2', 'h1']);
  });

  it('http2: off serves HTTP/1.1 only: an HTTP/2 preface is refused', async () => {
    const r = await curl(url(1, '/ho.off'), ['--http2-prior-knowledge', ...json('{"a":1}')]).catch(
      (e: { code?: number }) => ({ status: 0, version: 'failed', code: e.code }),
    );
    expect(r.status === 201).toBe(false);
    expect(await curl(url(1, '/ho.off'), json('{"a":2}'))).toMatchObject({ status: 201, version: '1.1' });
    await waitFor(() => bodies('ho.off').length === 1);
    expect(bodies('ho.off')).toEqual([{ a: 2, client: '127.0.0.1' }]);
  });

  it('over TLS negotiates h2 by ALPN, and HTTP/1.1 for clients that ask for it', async () => {
    const base = `https://127.0.0.1:${h.port(2)}/ho.tls`;
    const tls = ['--cacert', certs.ca, ...json('{"tls":1}')];
    expect(await curl(base, ['--http2', ...tls])).toMatchObject({ status: 201, version: '2' });
    expect(await curl(base, ['--http1.1', ...tls])).toMatchObject({ status: 201, version: '1.1' });
    await waitFor(() => bodies('ho.tls').length === 2);
  });

  it('add_remote_addr takes the first X-Forwarded-For value, else the peer address', async () => {
    await curl(url(0, '/ho.addr'), ['-H', 'X-Forwarded-For: host1, host2', ...json('{"n":1}')]);
    await curl(url(0, '/ho.addr'), json('{"n":2}'));
    // fluent-bit's documented case: with several headers, http2 on takes the last one, off the first.
    const two = ['-H', 'X-Forwarded-For: host1, host2', '-H', 'X-Forwarded-For: host3, host4'];
    await curl(url(0, '/ho.addr'), [...two, ...json('{"n":3}')]);
    await curl(url(1, '/ho.addr'), [...two, ...json('{"n":4}')]);
    expect(await postH2(h.port(0), '/ho.addr', '{"n":5}')).toBe(201);
    await waitFor(() => bodies('ho.addr').length === 5);
    expect(bodies('ho.addr')).toEqual([
      { n: 1, REMOTE_ADDR: 'host1' },
      { n: 2, REMOTE_ADDR: '127.0.0.1' },
      { n: 3, REMOTE_ADDR: 'host3' },
      { n: 4, client: 'host1' },
      { n: 5, REMOTE_ADDR: '127.0.0.1' },
    ]);
  });

  it('enable_health_endpoint answers GET /health; without it GET is refused', async () => {
    const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', url(0, '/health')]);
    const [body, status] = stdout.split('\n');
    expect(status).toBe('200');
    const health = JSON.parse(body!) as { status: string; timestamp: number };
    expect(health.status).toBe('ok');
    expect(Math.abs(health.timestamp - Date.now() / 1000)).toBeLessThan(600);
    expect((await curl(url(1, '/health'))).status).toBe(405);
    expect((await curl(url(0, '/health'), ['--http2-prior-knowledge'])).status).toBe(200);
  });

  it('http_server.buffer_max_size limits bodies; net.keepalive: off closes each connection', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2048) });
    expect((await curl(url(3, '/ho.lim'), json(big))).status).toBe(413);
    const ok = await curl(url(3, '/ho.lim'), json('{"small":1}'));
    expect(ok.status).toBe(201);
    expect(ok.headers).toContain('connection: close');
    expect((await curl(url(0, '/ho.lim'), json('{"small":2}'))).headers).not.toContain('connection: close');
  });

  it('net.keepalive: off ends an HTTP/2 session after its response (GOAWAY); on, the session stays', async () => {
    const session = (port: number) =>
      new Promise<{ status: number; closed: Promise<void>; close: () => void }>((resolve, reject) => {
        const c = h2connect(`http://127.0.0.1:${port}`);
        const closed = new Promise<void>((r) => c.on('close', () => r()));
        c.on('error', reject);
        const req = c.request({ ':method': 'POST', ':path': '/ho.ka2', 'content-type': 'application/json' });
        req.on('response', (hd) =>
          resolve({ status: Number(hd[':status']), closed, close: () => c.close() }),
        );
        req.resume();
        req.end('{"k":1}');
      });
    const kept = await session(h.port(0));
    let keptClosed = false;
    void kept.closed.then(() => (keptClosed = true));
    const off = await session(h.port(3));
    expect([kept.status, off.status]).toEqual([201, 201]);
    await off.closed; // the server sent GOAWAY once the stream was done
    expect(keptClosed).toBe(false);
    kept.close();
  });

  it('http_server.max_connections: a connection over the cap is closed at once', async () => {
    const held = [await openSocket(h.port(3)), await openSocket(h.port(3))];
    const third = await openSocket(h.port(3));
    await third.closed; // closed by the server without a byte sent
    let heldClosed = false;
    void Promise.race(held.map((x) => x.closed)).then(() => (heldClosed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(heldClosed).toBe(false);
    for (const x of held) x.s.destroy();
  });

  it('http_server.idle_timeout, net.keepalive_idle_timeout and a shorter net.io_timeout close a kept-alive connection idle that long', async () => {
    const control = await requestThenIdle(h.port(0)); // 10 s by default
    let controlClosed = false;
    void control.closed.then(() => (controlClosed = true));
    // Input 4 has net.io_timeout: 1s, which bounds the wait between requests too.
    const idle = [
      await requestThenIdle(h.port(5)),
      await requestThenIdle(h.port(6)),
      await requestThenIdle(h.port(4)),
    ];
    await Promise.all(idle.map((x) => x.closed));
    expect(controlClosed).toBe(false);
    control.s.destroy();
  });

  it('net.io_timeout closes an idle connection; net.backlog and net.tcp_keepalive reach the socket', async () => {
    const port = h.port(4);
    const { stdout: listening } = await run('ss', ['-ltnH', `sport = :${port}`]);
    // For a listening socket ss shows the backlog as Send-Q.
    expect(listening.trim().split(/\s+/)[2]).toBe('7');
    const idle = await openSocket(port);
    const control = await openSocket(h.port(0)); // no net.io_timeout: held until the header timeout
    let controlClosed = false;
    void control.closed.then(() => (controlClosed = true));
    const { stdout: est } = await run('ss', ['-tnoH', 'state', 'established', `sport = :${port}`]);
    expect(est).toMatch(/timer:\(keepalive,/);
    const { stdout: plain } = await run('ss', ['-tnoH', 'state', 'established', `sport = :${h.port(0)}`]);
    expect(plain).not.toMatch(/keepalive/);
    await idle.closed; // net.io_timeout: 1s
    expect(controlClosed).toBe(false);
    control.s.destroy();
  });
});

/** Sends one keep-alive request on a raw connection and resolves once the answer arrived. */
async function requestThenIdle(port: number) {
  const c = await openSocket(port);
  const answered = new Promise<void>((r) => c.s.once('data', () => r()));
  c.s.write(
    'POST /ho.ka HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
  );
  await answered;
  return c;
}

describe('http input: keys that cannot be honoured are refused, naming why', () => {
  it.each([
    ['http_server.workers: 4', /http_server.workers above 1/],
    ['oauth2.validate: on', /does not validate OAuth 2.0/],
    ['oauth2.jwks_url: https://issuer/keys', /needs oauth2.validate/],
    ['net.connect_timeout: 5s', /applies to outputs/],
    ['net.max_worker_connections: 10', /http_server.max_connections/],
    ['net.share_port: on', /SO_REUSEPORT/],
    ['net.tcp_keepalive_probes: 3', /kernel's interval and probe count/],
  ])('%s', async (key, message) => {
    const e = await inputRefusal(`{ name: http, listen: 127.0.0.1, port: 0, ${key} }`);
    expect(e.code).toBe('SPROUT_ERR_COLLECTOR_CONFIG_INVALID');
    expect(e.message).toMatch(message);
  });

  it("accepts fluent-bit's defaults written out", async () => {
    const c = createCollector(
      parseConfig(`pipeline:
  inputs:
    - name: http
      listen: 127.0.0.1
      port: 0
      http2: true
      buffer_chunk_size: 512K
      http_server.buffer_chunk_size: 512K
      http_server.max_connections: 0
      http_server.workers: 1
      http_server.ingress_queue_event_limit: 8192
      http_server.ingress_queue_byte_limit: 256M
      http_server.idle_timeout: 10s
      oauth2.validate: false
      net.accept_timeout: 10s
      net.accept_timeout_log_error: true
      net.share_port: false
      net.tcp_keepalive_interval: -1
      net.tcp_keepalive_probes: -1
      threaded: false
  outputs:
    - { name: 'null', match: '*' }
`),
      { logger: quiet },
    );
    await c.start();
    await c.close();
  });
});
