import { createServer, request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from './body.js';
import { SproutError } from './error.js';
import { sendError, sendJson } from './respond.js';
import { closeServer, listen } from './testing.js';

const server = createServer((req, res) => {
  const limit = Number(req.headers['x-limit'] ?? 16);
  readBody(req as IncomingMessage, {
    limit,
    decompress: true,
    tooLarge: (n) => new SproutError('SPROUT_ERR_TEST_TOO_LARGE', `over ${n} bytes`, { status: 413 }),
  }).then(
    (buf) => sendJson(res, 200, { body: buf.toString() }),
    (err) => sendError(res, err, { code: 'SPROUT_ERR_TEST_INTERNAL' }),
  );
});
let port = 0;
beforeAll(async () => {
  port = await listen(server);
});
afterAll(() => closeServer(server));

function post(body: Buffer | string[], headers: Record<string, string> = {}) {
  return new Promise<{ status: number; json: any; code: string | undefined }>((resolve, reject) => {
    const req = request({ port, method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          json: JSON.parse(text),
          code: res.headers['x-sprout-error-code'] as string,
        }),
      );
    });
    req.on('error', reject);
    if (Array.isArray(body)) for (const c of body) req.write(c);
    else req.write(body);
    req.end();
  });
}

describe('readBody', () => {
  it('reads a body within the limit', async () => {
    expect((await post(Buffer.from('hello'))).json).toEqual({ body: 'hello' });
  });
  it('refuses a declared length over the limit with the caller’s code', async () => {
    const r = await post(Buffer.alloc(40, 'a'));
    expect(r.status).toBe(413);
    expect(r.code).toBe('SPROUT_ERR_TEST_TOO_LARGE');
    expect(r.json).toEqual({ error: { code: 'SPROUT_ERR_TEST_TOO_LARGE', message: 'over 16 bytes' } });
  });
  it('refuses a chunked body as soon as it passes the limit', async () => {
    const r = await post(['0123456789', '0123456789'], { 'transfer-encoding': 'chunked' });
    expect(r.status).toBe(413);
  });
  it('counts decompressed bytes', async () => {
    const zipped = gzipSync(Buffer.alloc(1000, 'a'));
    expect(zipped.length).toBeLessThan(100);
    const r = await post(zipped, { 'content-encoding': 'gzip', 'x-limit': '100' });
    expect(r.status).toBe(413);
    const ok = await post(gzipSync('small'), { 'content-encoding': 'gzip', 'x-limit': '100' });
    expect(ok.json).toEqual({ body: 'small' });
  });
  it('answers a broken gzip body with a coded 500 that hides details', async () => {
    const r = await post(Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(r.status).toBe(500);
    expect(r.json.error.code).toBe('SPROUT_ERR_TEST_INTERNAL');
    expect(r.json.error.message).toBe('internal error');
  });
  it('rejects with the caller’s broken error when the client leaves mid-body', async () => {
    let seen!: (e: unknown) => void;
    const got = new Promise<unknown>((r) => (seen = r));
    const s = createServer((req) => {
      readBody(req, {
        limit: 1000,
        tooLarge: () => new Error('too large'),
        broken: (reason) => new SproutError('SPROUT_ERR_TEST_BROKEN', reason),
      }).then(seen, seen);
    });
    const p = await listen(s);
    const c = connect(p, '127.0.0.1', () =>
      c.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n0123456789', () =>
        setTimeout(() => c.destroy(), 50),
      ),
    );
    const err = await got;
    await closeServer(s);
    expect(err).toBeInstanceOf(SproutError);
    expect((err as SproutError).code).toBe('SPROUT_ERR_TEST_BROKEN');
    expect((err as SproutError).message).toBe('client aborted while sending the body');
  });
});
