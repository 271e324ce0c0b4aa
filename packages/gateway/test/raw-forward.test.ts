import { connect, createServer, type Server, type Socket } from 'node:net';
import { seededRng } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startGateway, staticUpstream, type TestGateway } from './harness.js';

// The raw forwarding path (`forwarding: 'raw'`) against a scripted instance on a raw socket: every
// request path names the bytes it answers with, so framings, interim responses, malformed heads
// and failures mid-body can be sent exactly.
type Script = string | Buffer | ((socket: Socket, head: string) => void);
const scripts = new Map<string, Script>();
let connections = 0;

function scripted(): Promise<Server> {
  const srv = createServer((socket) => {
    connections++;
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const path = head.split(' ')[1]!.split('?')[0]!;
        const s = scripts.get(path) ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
        if (typeof s === 'function') s(socket, head);
        else socket.write(s);
      }
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

describe('raw forwarding path', () => {
  let srv: Server;
  let t: TestGateway;

  beforeAll(async () => {
    srv = await scripted();
    const port = (srv.address() as { port: number }).port;
    const upstream = staticUpstream('raw', port);
    t = await startGateway({ forwarding: 'raw' });
    t.gw.setRoutes([{ upstream, scaling: { minReplicas: 1, maxReplicas: 1 } }]);
  });
  afterAll(async () => {
    await t.gw.close();
    await new Promise((r) => srv.close(r));
  });

  it('passes status, headers and a Content-Length body, reusing one connection', async () => {
    scripts.set(
      '/ok',
      'HTTP/1.1 201 Made\r\nX-Up: 1\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nhi',
    );
    const before = connections;
    for (let i = 0; i < 10; i++) {
      const r = await get(t.port, '/ok');
      expect([
        r.status,
        r.body,
        r.headers['x-up'],
        r.headers['keep-alive'],
        r.headers['x-sprout-cold-start'],
      ]).toEqual([201, 'hi', '1', undefined, 'false']);
    }
    expect(connections - before).toBe(1);
  });

  it('passes a Content-Length head to a raw-listener client as it came, less its hop-by-hop lines', async () => {
    scripts.set(
      '/pass',
      'HTTP/1.0 202 Taken\r\nX-Up:  1 \r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Two: 2\r\nContent-Length: 2\r\n\r\nhi',
    );
    // a simple keep-alive request: the raw listener answers it (not node:http)
    const socket = connect(t.port, '127.0.0.1');
    socket.write('GET /pass HTTP/1.1\r\nHost: gw.test\r\n\r\n');
    let text = '';
    await new Promise<void>((resolve) =>
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (text.endsWith('\r\n\r\nhi')) resolve();
      }),
    );
    socket.destroy();
    const lines = text.slice(0, -'\r\n\r\nhi'.length).split('\r\n');
    expect(lines.filter((l) => l.startsWith('Date: '))).toHaveLength(1);
    expect(lines.filter((l) => !l.startsWith('Date: '))).toEqual([
      'HTTP/1.1 202 Taken',
      'X-Up:  1 ',
      'X-Two: 2',
      'Content-Length: 2',
      'x-sprout-cold-start: false',
      'Connection: keep-alive',
      'Keep-Alive: timeout=65',
    ]);
  });

  it('decodes a chunked body and reads a close-delimited one to the end', async () => {
    scripts.set(
      '/chunked',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=1\r\n world\r\n0\r\nT: 1\r\n\r\n',
    );
    scripts.set('/close', (s) => s.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end'));
    expect((await get(t.port, '/chunked')).body).toBe('hello world');
    expect((await get(t.port, '/close')).body).toBe('until the end');
    expect((await get(t.port, '/chunked')).body).toBe('hello world');
  });

  it('drops interim 1xx responses and answers HEAD without waiting for a body', async () => {
    scripts.set(
      '/early',
      'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes',
    );
    scripts.set('/head', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
    expect((await get(t.port, '/early')).body).toBe('yes');
    const h = await get(t.port, '/head', { method: 'HEAD' });
    expect([h.status, h.headers['content-length'], h.body]).toEqual([200, '5', '']);
  });

  it('sends hop-by-hop-free request headers with X-Forwarded-*', async () => {
    scripts.set('/echo', (s, head) =>
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(head)}\r\n\r\n${head}`),
    );
    const r = await get(t.port, '/echo?q=1', {
      headers: { connection: 'keep-alive, x-secret', 'x-secret': 's', te: 'trailers', 'x-keep': 'k' },
    });
    const lines = r.body.toLowerCase().split('\r\n');
    expect(lines[0]).toBe('get /echo?q=1 http/1.1');
    expect(lines).toContain('x-keep: k');
    expect(lines).toContain('x-forwarded-for: 127.0.0.1');
    expect(lines).toContain('x-forwarded-proto: http');
    expect(lines.some((l) => /^(connection|x-secret|te):/.test(l))).toBe(false);
  });

  it('answers a malformed response with a coded 502, and cuts a response the instance breaks off', async () => {
    scripts.set('/bad', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx');
    const r = await get(t.port, '/bad');
    expect([r.status, r.headers['x-sprout-error-code']]).toEqual([502, 'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED']);
    expect(r.body).toMatch(/malformed response: conflicting Content-Length/);
    scripts.set('/cut', (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      setTimeout(() => s.destroy(), 20);
    });
    await expect(get(t.port, '/cut')).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    expect((await get(t.port, '/ok')).status).toBe(201);
  });

  it('answers or cuts every generated hostile response and keeps serving', async () => {
    const rng = seededRng();
    const good =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n4\r\nabcd\r\n0\r\n\r\n';
    const statuses = new Map<number | string, number>();
    for (let i = 0; i < 150; i++) {
      let wire: Buffer;
      if (i % 3 === 0) wire = rng.bytes(rng.int(1, 200));
      else {
        wire = Buffer.from(good);
        for (let k = rng.int(1, 5); k > 0; k--)
          wire[rng.int(0, wire.length)] = rng.pick([0, 10, 13, 32, 58, 48, 70, rng.int(0, 256)]);
      }
      scripts.set(`/fuzz${i}`, (s) => s.end(wire));
      const r = await get(t.port, `/fuzz${i}`).catch((err: Error) => err.message);
      const key = typeof r === 'string' ? 'cut' : r.status;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (typeof r !== 'string' && r.status === 502)
        expect(r.headers['x-sprout-error-code'], `FUZZ_SEED=${rng.seed}`).toBe(
          'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED',
        );
    }
    expect(statuses.get(502), `FUZZ_SEED=${rng.seed}`).toBeGreaterThan(30);
    expect((await get(t.port, '/ok')).status).toBe(201);
  }, 60_000);
});
