import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestGuard } from './guard.js';
import { sendError, sendJson } from './respond.js';
import { closeServer, listen } from './testing.js';

const TOKEN = 'a'.repeat(43);
let server: Server;
let port: number;

beforeAll(async () => {
  const guard = new RequestGuard({ token: TOKEN, allowedHosts: ['proxy.internal'] });
  server = createServer((req, res) => {
    const open = req.url === '/open';
    const refused = guard.check(req, open ? {} : { token: true, bodyTypes: ['application/json'] });
    if (refused) return sendError(res, refused, { code: 'X' }, guard.headers(refused));
    req.resume();
    req.on('end', () => sendJson(res, 200, { ok: true }));
  });
  port = await listen(server);
});
afterAll(() => closeServer(server));

/** A raw request (node:http sends the Host and Origin given, unlike a browser). */
function call(
  headers: Record<string, string>,
  o: { method?: string; body?: string; path?: string } = {},
): Promise<{ status: number; code: string | undefined; auth: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: o.method ?? 'POST', path: o.path ?? '/x', headers },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            code: res.headers['x-sprout-error-code'] as string | undefined,
            auth: res.headers['www-authenticate'] as string | undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(o.body ?? '{}');
  });
}

const ok = () => ({
  host: `127.0.0.1:${port}`,
  authorization: `Bearer ${TOKEN}`,
  'content-type': 'application/json',
});

describe('RequestGuard', () => {
  it('lets a same-host JSON request with the token through', async () => {
    expect((await call(ok())).status).toBe(200);
    expect((await call({ ...ok(), host: `localhost:${port}` })).status).toBe(200);
    expect((await call({ ...ok(), host: 'proxy.internal' })).status).toBe(200);
    expect((await call({ ...ok(), host: `[::1]:${port}` })).status).toBe(200);
    expect((await call({ ...ok(), 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
    expect((await call({ ...ok(), origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect((await call({ ...ok(), 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });

  it('refuses a cross-origin POST, even with the token', async () => {
    for (const origin of [
      'http://evil.example',
      'null',
      `http://localhost:${port + 1}`,
      `https://127.0.0.1:${port}`,
    ]) {
      expect(await call({ ...ok(), origin }), origin).toMatchObject({
        status: 403,
        code: 'SPROUT_ERR_HTTP_CROSS_ORIGIN',
      });
    }
    for (const site of ['cross-site', 'same-site']) {
      expect(await call({ ...ok(), 'sec-fetch-site': site })).toMatchObject({
        status: 403,
        code: 'SPROUT_ERR_HTTP_CROSS_ORIGIN',
      });
    }
  });

  it('refuses a foreign Host (DNS rebinding), on open routes too', async () => {
    for (const host of [
      `evil.example:${port}`,
      'evil.example',
      'localhost.evil.example',
      'user@127.0.0.1',
      '127.0.0.1.evil.example',
    ]) {
      expect(await call({ ...ok(), host }), host).toMatchObject({
        status: 403,
        code: 'SPROUT_ERR_HTTP_HOST_NOT_ALLOWED',
      });
    }
    expect(
      await call({ host: `evil.example:${port}` }, { method: 'GET', path: '/open', body: '' }),
    ).toMatchObject({
      status: 403,
    });
    expect(
      (await call({ host: `localhost:${port}` }, { method: 'GET', path: '/open', body: '' })).status,
    ).toBe(200);
  });

  it('answers 401 without the token and with a wrong one of the same length', async () => {
    const { authorization: _, ...none } = ok();
    expect(await call(none)).toMatchObject({
      status: 401,
      code: 'SPROUT_ERR_HTTP_UNAUTHORIZED',
      auth: 'Bearer',
    });
    for (const authorization of [
      `Bearer ${'b'.repeat(43)}`,
      `Bearer ${TOKEN}x`,
      `Basic ${TOKEN}`,
      'Bearer ',
    ]) {
      expect(await call({ ...ok(), authorization }), authorization).toMatchObject({
        status: 401,
        code: 'SPROUT_ERR_HTTP_UNAUTHORIZED',
      });
    }
  });

  it('refuses text/plain and form bodies with 415; a GET or an empty body needs no type', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      expect(await call({ ...ok(), 'content-type': type }), type).toMatchObject({
        status: 415,
        code: 'SPROUT_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
      });
    }
    const { 'content-type': _, ...untyped } = ok();
    expect((await call(untyped)).status).toBe(415);
    expect((await call(untyped, { method: 'DELETE', body: '' })).status).toBe(200);
    expect((await call(untyped, { method: 'GET', body: '' })).status).toBe(200);
  });

  it('never lets a generated Host or Origin through that is not this server (seeded, time-boxed)', async () => {
    let seed = Number(process.env.FUZZ_SEED ?? 13);
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const guard = new RequestGuard({ token: TOKEN });
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789.-:[]@/ %';
    const end = Date.now() + 500;
    let n = 0;
    while (Date.now() < end || n < 200) {
      const len = 1 + Math.floor(rand() * 30);
      let host = '';
      for (let i = 0; i < len; i++) host += alphabet[Math.floor(rand() * alphabet.length)];
      const req = { headers: { host, authorization: `Bearer ${TOKEN}` }, method: 'GET' };
      const refused = guard.check(req as never);
      const name = /^\[(.+)\](:\d+)?$/.exec(host)?.[1] ?? host.replace(/:\d{1,5}$/, '');
      const allowed = name === 'localhost' || /^[\d.]+$/.test(name) || name.includes(':');
      // A name with letters that is not localhost always refused; anything accepted is an IP or localhost.
      if (!allowed)
        expect(refused?.code, `seed ${process.env.FUZZ_SEED ?? 13} host ${host}`).toBe(
          'SPROUT_ERR_HTTP_HOST_NOT_ALLOWED',
        );
      if (!refused) expect(name === 'localhost' || /^[\d.:a-f]+$/.test(name), host).toBe(true);
      n++;
    }
  });
});

describe('RequestGuard with sessions and API tokens', () => {
  const sessions = new Map([['sess-ok', { user: 'admin', via: 'session' as const, csrf: 'csrf-ok' }]]);
  const apiTokens = new Map([['tok-script', { user: 'ci', via: 'api-token' as const }]]);
  const guard = new RequestGuard({
    token: TOKEN,
    auth: { bearer: (t) => apiTokens.get(t), session: (id) => sessions.get(id) },
  });
  let s2: Server;
  let p2: number;
  beforeAll(async () => {
    s2 = createServer((req, res) => {
      const refused = guard.check(req, {
        token: req.url !== '/page',
        navigation: req.url === '/page',
        bodyTypes: ['application/json'],
      });
      if (refused) return sendError(res, refused, { code: 'X' }, guard.headers(refused));
      const who = guard.authenticate(req);
      req.resume();
      req.on('end', () => sendJson(res, 200, who instanceof Error ? {} : who));
    });
    p2 = await listen(s2);
  });
  afterAll(() => closeServer(s2));

  const send = async (method: string, headers: Record<string, string>, path = '/x') => {
    const res = await fetch(`http://127.0.0.1:${p2}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(method === 'GET' ? {} : { body: '{}' }),
    });
    return { status: res.status, code: res.headers.get('x-sprout-error-code'), body: await res.json() };
  };

  it('takes a session cookie for reads, and for writes only with its CSRF token', async () => {
    expect(await send('GET', { cookie: 'sprout_session=sess-ok' })).toMatchObject({
      status: 200,
      body: { user: 'admin', via: 'session' },
    });
    const cookie = 'sprout_session=sess-ok; sprout_csrf=csrf-ok';
    expect((await send('POST', { cookie, 'x-sprout-csrf': 'csrf-ok' })).status).toBe(200);
    expect(await send('POST', { cookie })).toMatchObject({ status: 403, code: 'SPROUT_ERR_HTTP_CSRF' });
    expect(await send('DELETE', { cookie, 'x-sprout-csrf': 'csrf-other' })).toMatchObject({
      status: 403,
      code: 'SPROUT_ERR_HTTP_CSRF',
    });
  });

  it('refuses no cookie, a forged cookie and a cookie from another site', async () => {
    expect(await send('GET', {})).toMatchObject({ status: 401, code: 'SPROUT_ERR_HTTP_UNAUTHORIZED' });
    expect(await send('GET', { cookie: 'sprout_session=forged' })).toMatchObject({
      status: 401,
      code: 'SPROUT_ERR_HTTP_UNAUTHORIZED',
    });
    expect(await send('GET', { cookie: 'sprout_sessionx=sess-ok' })).toMatchObject({ status: 401 });
    expect(
      await send('POST', {
        cookie: 'sprout_session=sess-ok',
        'x-sprout-csrf': 'csrf-ok',
        origin: 'http://evil.example',
      }),
    ).toMatchObject({ status: 403, code: 'SPROUT_ERR_HTTP_CROSS_ORIGIN' });
  });

  it('takes API tokens and the platform token as Bearer, which need no CSRF token', async () => {
    expect(await send('POST', { authorization: 'Bearer tok-script' })).toMatchObject({
      status: 200,
      body: { user: 'ci', via: 'api-token' },
    });
    expect(await send('POST', { authorization: `Bearer ${TOKEN}` })).toMatchObject({
      status: 200,
      body: { via: 'token' },
    });
    // A wrong Bearer is refused even beside a good cookie: one credential per request.
    expect(
      await send('GET', { authorization: 'Bearer revoked', cookie: 'sprout_session=sess-ok' }),
    ).toMatchObject({ status: 401 });
  });

  it('lets a navigation GET from another site through, but not a foreign Host', async () => {
    const page = await fetch(`http://127.0.0.1:${p2}/page`, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(page.status).toBe(200);
    expect(await send('GET', { 'sec-fetch-site': 'cross-site' }, '/x')).toMatchObject({ status: 403 });
    const foreign = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: p2, path: '/page', headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
        .on('error', reject)
        .end();
    });
    expect(foreign).toBe(403);
  });
});
