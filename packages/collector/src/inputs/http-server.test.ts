import { connect } from 'node:net';
import { closeServer, listen } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedHttpServer, refusal } from './http-server.js';

/** Writes `bytes` on a fresh connection and resolves with all that came back once the server closed it. */
const exchange = (port: number, bytes: string) =>
  new Promise<string>((resolve) => {
    let text = '';
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('close', () => resolve(text));
  });

describe('guardedHttpServer', () => {
  const rejected: Array<[string, Record<string, unknown>]> = [];
  const server = guardedHttpServer(
    async (req, res) => {
      if (req.url === '/throw') throw new TypeError('boom');
      if (req.url === '/reject') await Promise.reject(new Error('later'));
      if (req.url === '/coded') throw refusal('SPROUT_ERR_COLLECTOR_BAD_REQUEST', 404, 'no such thing');
      res.writeHead(200).end('fine');
    },
    (reason, detail) => rejected.push([reason, detail]),
  );
  let port = 0;
  beforeAll(async () => {
    port = await listen(server);
  });
  afterAll(() => closeServer(server));

  it('answers a throw or a rejection with a coded 500 that hides details, counts it, keeps serving', async () => {
    for (const path of ['/throw', '/reject']) {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(r.status).toBe(500);
      expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_COLLECTOR_INTERNAL');
      expect(await r.json()).toEqual({
        error: { code: 'SPROUT_ERR_COLLECTOR_INTERNAL', message: 'internal error' },
      });
    }
    expect(rejected).toEqual([
      ['internal', { error: 'boom' }],
      ['internal', { error: 'later' }],
    ]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('fine');
  });

  it('answers a coded error with its own status and code, not counted as internal', async () => {
    rejected.length = 0;
    const r = await fetch(`http://127.0.0.1:${port}/coded`);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({
      error: { code: 'SPROUT_ERR_COLLECTOR_BAD_REQUEST', message: 'no such thing' },
    });
    expect(rejected).toEqual([]);
  });

  it('answers bytes the HTTP parser refuses with a coded 400 and closes that connection', async () => {
    rejected.length = 0;
    const back = await exchange(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(back).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(back).toMatch(/x-sprout-error-code: SPROUT_ERR_COLLECTOR_DECODE/);
    expect(rejected.map(([r]) => r)).toEqual(['malformed']);
  });

  it('answers an HTTP/1.1 request without Host with a coded 400 (not the bare one of Node) and closes it', async () => {
    rejected.length = 0;
    // What the fuzz sent: a head cut after its request line, then a chunked body whose empty size
    // line ends the head. Node answered it itself (requireHostHeader), uncoded and chunked.
    const back = await exchange(port, 'POST /v1/logs HTTP/1.1\r\n\r\n{"a":11111,\r\n0\r\n\r\n');
    // The body's bytes, not framed as one, are read as a second request: refused coded as well.
    const heads = [...back.matchAll(/HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n((?:[^\r\n]+\r\n)*)\r\n/g)];
    expect(heads.map((m) => m[1])).toEqual(['400', '400']);
    for (const m of heads) expect(m[2]).toMatch(/^x-sprout-error-code: SPROUT_ERR_COLLECTOR_DECODE\r$/m);
    expect(heads[0]![2]).toMatch(/^connection: close\r$/m);
    expect(back).toContain(
      '{"error":{"code":"SPROUT_ERR_COLLECTOR_DECODE","message":"an HTTP/1.1 request must carry a Host header"}}',
    );
    expect(rejected[0]).toEqual(['malformed', { error: 'no Host header' }]);
    // HTTP/1.0 needs no Host.
    expect(await exchange(port, 'GET / HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nfine$/);
  });
});
