import { createServer } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerClientErrors } from './client-errors.js';
import { closeServer, listen } from './testing.js';

/** Writes `bytes` on a fresh connection; everything the server sent until it closed. */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
  });
}

describe('answerClientErrors', () => {
  const server = createServer((_req, res) => res.end('ok'));
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
    const back = await rawRequest(port, bytes);
    expect(back).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(back.toLowerCase()).toContain('x-sprout-error-code: sprout_err_http_malformed_request');
    expect(back.toLowerCase()).toContain('connection: close');
    const body = JSON.parse(back.slice(back.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
    expect(body.error.code).toBe('SPROUT_ERR_HTTP_MALFORMED_REQUEST');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  });
});
