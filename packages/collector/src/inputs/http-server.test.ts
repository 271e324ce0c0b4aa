import { connect } from 'node:net';
import { closeServer, listen } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedHttpServer, refusal } from './http-server.js';

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
    const back = await new Promise<string>((resolve) => {
      let text = '';
      const s = connect(port, '127.0.0.1', () => s.write('NOT HTTP AT ALL\r\n\r\n'));
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      s.on('close', () => resolve(text));
    });
    expect(back).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(back).toMatch(/x-sprout-error-code: SPROUT_ERR_COLLECTOR_DECODE/);
    expect(rejected.map(([r]) => r)).toEqual(['malformed']);
  });
});
