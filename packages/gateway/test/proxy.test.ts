import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '@sprout/http/testing';
import type { FunctionUpstream, InstanceEndpoint } from '@sprout/gateway';
import { ProcessUpstream } from './process-upstream.js';
import { get, startGateway, until, type TestGateway } from './harness.js';

describe('proxying to real instances', () => {
  let t: TestGateway;
  const one = new ProcessUpstream('proxy-one');
  const two = new ProcessUpstream('proxy-two');
  const cold = new ProcessUpstream('proxy-cold-ws', { env: { READY_DELAY_MS: '100' } });
  const crashy = new ProcessUpstream('proxy-crashy');
  let dead: InstanceEndpoint;
  const withDead: FunctionUpstream = {
    name: 'proxy-with-dead',
    instances: () => [dead, ...one.instances()],
    scaleTo: () => {},
    onInstancesChanged: () => () => {},
  };

  beforeAll(async () => {
    dead = { id: 'dead', host: '127.0.0.1', port: await freePort() }; // a port nothing listens on
    t = await startGateway();
    t.gw.setRoutes([
      {
        upstream: one,
        scaling: { minReplicas: 1, maxReplicas: 1 },
        pathPrefixes: ['/one'],
        options: { stripPrefix: true, responseHeaderTimeoutMs: 300 },
      },
      {
        upstream: two,
        scaling: { minReplicas: 2, maxReplicas: 2 },
        pathPrefixes: ['/two'],
        options: { stripPrefix: true },
      },
      {
        upstream: cold,
        scaling: { minReplicas: 0, maxReplicas: 1 },
        pathPrefixes: ['/cold'],
        options: { stripPrefix: true },
      },
      {
        upstream: crashy,
        scaling: { minReplicas: 1, maxReplicas: 1 },
        pathPrefixes: ['/crashy'],
        options: { stripPrefix: true },
      },
      {
        upstream: withDead,
        scaling: { minReplicas: 1, maxReplicas: 1 },
        pathPrefixes: ['/dead'],
        options: { stripPrefix: true },
      },
    ]);
    await until(
      () => one.instances().length === 1 && two.instances().length === 2 && crashy.instances().length === 1,
    );
  });
  afterAll(async () => {
    await t.gw.close();
    await Promise.all([one, two, cold, crashy].map((b) => b.close()));
  });

  it('streams a large request body to the instance and its response back', async () => {
    const body = randomBytes(4 * 1024 * 1024);
    const r = await new Promise<Buffer>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: t.port, path: '/one/echo', method: 'POST', agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        },
      );
      req.on('error', reject);
      // chunked, written in pieces
      for (let i = 0; i < body.length; i += 256 * 1024) req.write(body.subarray(i, i + 256 * 1024));
      req.end();
    });
    expect(r.equals(body)).toBe(true);
  });

  it('passes server-sent events through one at a time', async () => {
    const events: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: t.port, path: '/one/sse', agent: false }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          events.push(...d.split('\n\n').filter(Boolean));
        });
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    // Each next event is only sent after the previous one reached the client through the gateway.
    for (const n of [1, 2]) {
      await until(() => events.length >= n);
      await get(t.port, '/one/sse-next');
    }
    await done;
    expect(events).toEqual(['data: 1', 'data: 2', 'data: 3']);
  });

  it('passes WebSocket upgrades through, also from zero', async () => {
    for (const path of ['/one/ws', '/cold/ws']) {
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}${path}`);
      const coldHeader = new Promise<string | undefined>((r) =>
        ws.on('upgrade', (res) => r(res.headers['x-sprout-cold-start'] as string | undefined)),
      );
      await new Promise((resolve, reject) => {
        ws.on('open', resolve);
        ws.on('error', reject);
      });
      const reply = new Promise<string>((r) => ws.once('message', (m) => r(String(m))));
      ws.send('ping');
      expect(await reply).toBe('echo:ping');
      expect(await coldHeader).toBe(path === '/cold/ws' ? 'true' : 'false');
      ws.close();
    }
  });

  it('delivers every byte of a large streamed response to a client that reads slowly', async () => {
    const size = 8 * 1024 * 1024;
    const body = Buffer.alloc(size, 7);
    const got = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: t.port, path: '/one/echo', method: 'POST', agent: false },
        (res) => {
          let n = 0;
          res.pause();
          // read in small sips so the gateway's buffer to this client fills up
          const sip = setInterval(() => {
            let chunk: Buffer | null;
            while ((chunk = res.read(64 * 1024) as Buffer | null) !== null) n += chunk.length;
          }, 5);
          res.on('end', () => {
            clearInterval(sip);
            resolve(n);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(got).toBe(size);
  });

  it('balances by least outstanding requests', async () => {
    const long = get(t.port, '/two/slow?ms=1000');
    await until(() => t.gw.status().find((s) => s.name === 'proxy-two')!.concurrency === 1);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(String((await get(t.port, '/two/')).headers['x-instance']));
    const longReply = await long;
    expect(seen.size).toBe(1);
    expect(seen.has(String(longReply.headers['x-instance']))).toBe(false);
    // with nothing outstanding, both instances take requests
    const all = new Set<string>();
    for (let i = 0; i < 6; i++) all.add(String((await get(t.port, '/two/')).headers['x-instance']));
    expect(all.size).toBe(2);
  });

  it('answers 502 to the request an instance dies in, and the next request works', async () => {
    const r = await get(t.port, '/crashy/crash');
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error.code).toBe('SPROUT_ERR_GATEWAY_UPSTREAM_FAILED');
    // The upstream lists the dead instance until its exit is seen (later on a loaded machine), then
    // starts a new one: wait for that, as the supervisor would report it.
    await until(() => crashy.spawned === 2 && crashy.instances().length === 1);
    const next = await get(t.port, '/crashy/');
    expect(next).toMatchObject({ status: 200, body: 'hello from proxy-crashy\n' });
  });

  it('cuts the client connection when an instance dies after sending headers, and the next request works', async () => {
    const before = crashy.spawned;
    await expect(get(t.port, '/crashy/die-mid-body')).rejects.toThrow(/aborted|ECONNRESET|socket hang up/);
    await until(() => crashy.spawned === before + 1 && crashy.instances().length === 1);
    // the same with a request body (the node:http path)
    await expect(get(t.port, '/crashy/die-mid-body', { method: 'POST', body: 'x' })).rejects.toThrow(
      /aborted|ECONNRESET|socket hang up/,
    );
    await until(() => crashy.spawned === before + 2 && crashy.instances().length === 1);
    expect(await get(t.port, '/crashy/')).toMatchObject({ status: 200, body: 'hello from proxy-crashy\n' });
    expect(t.gw.status().find((s) => s.name === 'proxy-crashy')!.lastError).toMatchObject({
      code: 'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED',
      message: expect.stringMatching(/middle of a response/),
    });
  });

  it('answers 504 when response headers do not arrive in time', async () => {
    const r = await get(t.port, '/one/hang');
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body).error.code).toBe('SPROUT_ERR_GATEWAY_RESPONSE_HEADER_TIMEOUT');
    expect((await get(t.port, '/one/')).status).toBe(200);
  });

  it('retries a request that never reached an instance (connection refused), body included', async () => {
    for (let i = 0; i < 4; i++) {
      expect((await get(t.port, '/dead/')).status).toBe(200);
      const echoed = await get(t.port, '/dead/echo', { method: 'POST', body: `body ${i}` });
      expect(echoed).toMatchObject({ status: 200, body: `body ${i}` });
    }
    expect(t.logs.some((l) => l.instance === 'dead' && /refused/.test(String(l.msg)))).toBe(true);
  });
});
