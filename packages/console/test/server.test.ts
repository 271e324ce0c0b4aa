// The console's own listener (sprout console) over real HTTP: sign-in, sessions, CSRF, API tokens,
// each attack refused, and the static files.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  askHostless,
  fuzzFindings,
  fuzzHttpServer,
  HOSTLESS_REFUSED,
  rawExchange,
  seededRng,
} from '@sprout/http/testing';
import { startConsoleServer, type ConsoleServer } from '../src/index.js';

const PASSWORD = 'test-admin-password';
let c: ConsoleServer;
let base: string;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'console-server-'));
  const assetsDir = join(dataDir, 'web');
  mkdirSync(join(assetsDir, 'assets'), { recursive: true });
  writeFileSync(join(assetsDir, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(assetsDir, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(join(dataDir, 'secret.txt'), 'not for the web');
  c = await startConsoleServer({
    dataDir,
    assetsDir,
    port: 0,
    adminPassword: PASSWORD,
    loginLimits: { perClient: 3, overall: 100 },
  });
  base = c.url;
});
afterAll(() => c.close());

interface Answer {
  status: number;
  code: string | null;
  headers: Headers;
  body: string;
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(base + path, init);
  return {
    status: res.status,
    code: res.headers.get('x-sprout-error-code'),
    headers: res.headers,
    body: await res.text(),
  };
}

const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** Signs in; returns the Cookie header value and the CSRF token. */
async function signIn(): Promise<{ cookie: string; csrf: string; setCookie: string[] }> {
  const res = await fetch(`${base}/v1/auth/login`, json('POST', { user: 'admin', password: PASSWORD }));
  expect(res.status).toBe(200);
  const setCookie = res.headers.getSetCookie();
  const cookie = setCookie.map((s) => s.split(';')[0]).join('; ');
  const { csrf } = (await res.json()) as { csrf: string };
  return { cookie, csrf, setCookie };
}

/** A raw request with the Host header given (fetch cannot send a foreign one). */
function rawGet(path: string, headers: Record<string, string>): Promise<number> {
  const port = Number(new URL(base).port);
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    })
      .on('error', reject)
      .end();
  });
}

describe('sign-in and sessions', () => {
  it('sets an HttpOnly SameSite=Strict session cookie and a readable CSRF cookie', async () => {
    const { setCookie } = await signIn();
    const session = setCookie.find((s) => s.startsWith('sprout_session='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).toMatch(/; Max-Age=43200/);
    expect(session).not.toMatch(/Secure/);
    const csrf = setCookie.find((s) => s.startsWith('sprout_csrf='))!;
    expect(csrf).not.toMatch(/HttpOnly/);
  });

  it('the session reads and, with its CSRF token, writes; logout ends it', async () => {
    const { cookie, csrf } = await signIn();
    expect(JSON.parse((await call('/v1/auth/session', { headers: { cookie } })).body)).toEqual({
      user: 'admin',
      via: 'session',
    });
    const made = await call(
      '/v1/auth/tokens',
      json('POST', { name: 'ci' }, { cookie, 'x-sprout-csrf': csrf }),
    );
    expect(made.status).toBe(201);
    const logout = await call('/v1/auth/logout', {
      method: 'POST',
      headers: { cookie, 'x-sprout-csrf': csrf },
    });
    expect(logout.status).toBe(204);
    expect(logout.headers.getSetCookie().every((s) => s.includes('Max-Age=0'))).toBe(true);
    expect(await call('/v1/auth/session', { headers: { cookie } })).toMatchObject({
      status: 401,
      code: 'SPROUT_ERR_HTTP_UNAUTHORIZED',
    });
  });

  it('refuses no cookie and a forged cookie', async () => {
    expect((await call('/v1/auth/session')).status).toBe(401);
    expect((await call('/v1/auth/session', { headers: { cookie: 'sprout_session=forged' } })).code).toBe(
      'SPROUT_ERR_HTTP_UNAUTHORIZED',
    );
    const { cookie } = await signIn();
    const tampered = cookie.replace(
      /sprout_session=(.)/,
      (_, ch: string) => `sprout_session=${ch === 'A' ? 'B' : 'A'}`,
    );
    expect((await call('/v1/auth/session', { headers: { cookie: tampered } })).status).toBe(401);
  });

  it('refuses a write without the CSRF token, with the wrong one, and from another origin', async () => {
    const { cookie, csrf } = await signIn();
    expect(await call('/v1/auth/tokens', json('POST', { name: 'x' }, { cookie }))).toMatchObject({
      status: 403,
      code: 'SPROUT_ERR_HTTP_CSRF',
    });
    expect(
      await call('/v1/auth/tokens', json('POST', { name: 'x' }, { cookie, 'x-sprout-csrf': 'guess' })),
    ).toMatchObject({
      status: 403,
      code: 'SPROUT_ERR_HTTP_CSRF',
    });
    const cross = await call(
      '/v1/auth/tokens',
      json('POST', { name: 'x' }, { cookie, 'x-sprout-csrf': csrf, origin: 'http://evil.example' }),
    );
    expect(cross).toMatchObject({ status: 403, code: 'SPROUT_ERR_HTTP_CROSS_ORIGIN' });
    // A form post (the one write a page may send anywhere without asking) is refused by its type.
    const form = await call('/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `password=${PASSWORD}`,
    });
    expect(form).toMatchObject({ status: 415 });
  });

  it('refuses a foreign Host on pages and API (DNS rebinding)', async () => {
    expect(await rawGet('/', { host: 'evil.example' })).toBe(403);
    expect(await rawGet('/v1/auth/session', { host: 'evil.example:80' })).toBe(403);
    expect(await rawGet('/', { host: `localhost:${new URL(base).port}` })).toBe(200);
  });
});

describe('tokens', () => {
  it('the platform token and API tokens work as Bearer; an API token cannot make tokens; revoked ones stop', async () => {
    const platform = { authorization: `Bearer ${c.token}` };
    const made = JSON.parse(
      (await call('/v1/auth/tokens', json('POST', { name: 'deploy-script' }, platform))).body,
    ) as { id: string; token: string };
    const bearer = { authorization: `Bearer ${made.token}` };
    expect(JSON.parse((await call('/v1/auth/session', { headers: bearer })).body)).toEqual({
      user: 'token:deploy-script',
      via: 'api-token',
    });
    expect((await call('/v1/auth/tokens', json('POST', { name: 'more' }, bearer))).code).toBe(
      'SPROUT_ERR_CONSOLE_FORBIDDEN',
    );
    const list = JSON.parse((await call('/v1/auth/tokens', { headers: platform })).body) as {
      tokens: unknown[];
    };
    expect(JSON.stringify(list)).not.toContain(made.token);
    expect((await call(`/v1/auth/tokens/${made.id}`, { method: 'DELETE', headers: platform })).status).toBe(
      204,
    );
    expect((await call('/v1/auth/session', { headers: bearer })).status).toBe(401);
  });

  it('a one-time sign-in link works once', async () => {
    const link = c.site.loginLink(`${base}/`);
    const token = new URL(link).hash.replace('#login=', '');
    expect((await call('/v1/auth/login', json('POST', { loginToken: token }))).status).toBe(200);
    expect((await call('/v1/auth/login', json('POST', { loginToken: token }))).code).toBe(
      'SPROUT_ERR_CONSOLE_LOGIN_FAILED',
    );
  });
});

describe('brute force', () => {
  it('limits failed sign-ins per client: even the right password waits (429 with Retry-After)', async () => {
    // The limit is 3 failures per client (the used sign-in link above was one).
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) {
      codes.push((await call('/v1/auth/login', json('POST', { password: `wrong-${i}` }))).code!);
    }
    expect(codes).toEqual([
      'SPROUT_ERR_CONSOLE_LOGIN_FAILED',
      'SPROUT_ERR_CONSOLE_LOGIN_FAILED',
      'SPROUT_ERR_CONSOLE_LOGIN_RATE_LIMITED',
      'SPROUT_ERR_CONSOLE_LOGIN_RATE_LIMITED',
    ]);
    const limited = await call('/v1/auth/login', json('POST', { password: PASSWORD }));
    expect(limited).toMatchObject({ status: 429, code: 'SPROUT_ERR_CONSOLE_LOGIN_RATE_LIMITED' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('static files', () => {
  it('serves hashed assets for a year, pages revalidated, app routes as index.html', async () => {
    const asset = await call('/assets/app-1234.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    for (const path of ['/', '/functions', '/functions/hello', '/clusters/new']) {
      const page = await call(path);
      expect(page.status, path).toBe(200);
      expect(page.body).toContain('<title>console</title>');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
    // A link from another site opens the console (the Host check still holds).
    expect((await call('/functions', { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
  });

  it('never leaves the assets folder and 404s what is not there', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/%00',
      '/missing.js',
      '/assets/missing',
    ]) {
      const r = await call(path);
      expect(r.body, path).not.toContain('not for the web');
      expect([400, 404], path).toContain(r.status);
    }
    expect((await call('/assets/app-1234.js', { method: 'POST' })).code).toBe('SPROUT_ERR_CONSOLE_NOT_FOUND');
  });

  it('answers an HTTP/1.1 request without Host (a fuzz find) with a coded 400, not the bare one of Node, and closes it', async () => {
    const port = Number(new URL(base).port);
    expect(await askHostless(port, '/v1/auth/login')).toEqual(HOSTLESS_REFUSED);
    // HTTP/1.0 needs no Host: the console's own answer, the guard's refusal of a Host not its own.
    const old = await rawExchange(port, 'GET /v1/auth/session HTTP/1.0\r\n\r\n');
    expect([old.status, old.headers['x-sprout-error-code']]).toEqual([
      403,
      'SPROUT_ERR_HTTP_HOST_NOT_ALLOWED',
    ]);
  });

  it('survives hostile requests: coded answers only, never a 5xx', async () => {
    const port = Number(new URL(base).port);
    const rng = seededRng();
    const r = await fuzzHttpServer(
      port,
      {
        paths: ['/', '/v1/auth/login', '/v1/auth/session', '/assets/x'],
        good: Buffer.from('{"password":"x"}'),
        methods: ['GET', 'POST'],
      },
      {
        rng,
        ms: 1500,
        min: 100,
      },
    );
    const f = fuzzFindings(r);
    expect(f.serverErrors, `seed ${rng.seed}`).toEqual([]);
  });
});
