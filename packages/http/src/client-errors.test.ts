import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerClientErrors, refuseHostless } from './client-errors.js';
import { closeServer, hostlessRequest, listen, rawExchange } from './testing.js';

describe('answerClientErrors', () => {
  const server = createServer((req, res) => {
    if (!refuseHostless(req, res)) res.end('ok');
  });
  answerClientErrors(server);
  let port = 0;
  beforeAll(async () => {
    port = await listen(server);
  });
  afterAll(() => closeServer(server));

  it.each([
    ['garbage', 'GARBAGE\r\n\r\n', 400],
    [
      'two content-lengths',
      'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab',
      400,
    ],
    ['a header without a colon', 'GET / HTTP/1.1\r\nno colon here\r\n\r\n', 400],
    ['a head over the limit', `GET / HTTP/1.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('%s is a coded %i and the connection is closed', async (_what, bytes, status) => {
    const back = (await rawExchange(port, bytes)).text;
    expect(back).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(back.toLowerCase()).toContain('x-sprout-error-code: sprout_err_http_malformed_request');
    expect(back.toLowerCase()).toContain('connection: close');
    const body = JSON.parse(back.slice(back.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
    expect(body.error.code).toBe('SPROUT_ERR_HTTP_MALFORMED_REQUEST');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  });

  it('an HTTP/1.1 request without Host is a coded 400 (not the bare one of Node) and the connection is closed', async () => {
    const a = await rawExchange(port, hostlessRequest('/x'));
    expect(a.status).toBe(400);
    expect(a.headers).toMatchObject({
      'x-sprout-error-code': 'SPROUT_ERR_HTTP_MALFORMED_REQUEST',
      connection: 'close',
      'content-type': 'application/json; charset=utf-8',
    });
    expect(a.text).toContain(
      '{"error":{"code":"SPROUT_ERR_HTTP_MALFORMED_REQUEST","message":"an HTTP/1.1 request must carry a Host header"}}',
    );
    // The body's bytes, not framed as one, are read as a second request: refused coded as well.
    expect(a.text.match(/^x-sprout-error-code: SPROUT_ERR_HTTP_MALFORMED_REQUEST\r$/gm)).toHaveLength(2);
  });

  it('an HTTP/1.0 request without Host, or an HTTP/1.1 one with it, is served', async () => {
    expect((await rawExchange(port, 'GET / HTTP/1.0\r\n\r\n')).text).toMatch(
      /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/,
    );
    const a = await rawExchange(port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(a.status).toBe(200);
  });

  it('refuseHostless answers with the code it is given', async () => {
    const own = createServer((req, res) => {
      if (!refuseHostless(req, res, 'SPROUT_ERR_OWN')) res.end('ok');
    });
    answerClientErrors(own);
    const ownPort = await listen(own);
    try {
      const a = await rawExchange(ownPort, 'GET / HTTP/1.1\r\n\r\n');
      expect([a.status, a.headers['x-sprout-error-code']]).toEqual([400, 'SPROUT_ERR_OWN']);
    } finally {
      await closeServer(own);
    }
  });
});
