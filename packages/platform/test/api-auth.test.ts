import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, harness, startTestDev, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await harness(['echo']);
});
afterAll(async () => {
  await h.close();
});

interface Answer {
  status: number;
  code: string | undefined;
  body: string;
}

/** A raw request: node:http sends the Host, Origin and types given, as an attacker's client would. */
function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  base = h.api.url,
): Promise<Answer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode!, code: res.headers['x-sprout-error-code'] as string, body: text }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const auth = () => ({ authorization: `Bearer ${h.api.token}` });
const json = () => ({ ...auth(), 'content-type': 'application/json' });
const scale = '{"replicas":0}';

describe('platform API auth', () => {
  it('answers 401 to every call that changes state or reveals code or logs without the token', async () => {
    const calls: [string, string, string?][] = [
      ['GET', '/v1/functions'],
      ['GET', '/v1/functions/echo'],
      ['GET', '/v1/functions/echo/logs'],
      ['GET', '/v1/functions/echo/instances'],
      ['GET', '/v1/events'],
      ['POST', '/v1/functions/echo/scale', scale],
      ['POST', '/v1/functions', '{"paths":["echo"]}'],
      ['DELETE', '/v1/functions/echo'],
      ['GET', '/v1/functions/echo/invoke/'],
      ['POST', '/v1/functions/echo/invoke/x', 'hi'],
      ['GET', '/v1/no-such-route'],
    ];
    for (const [method, path, body] of calls) {
      const r = await call(method, path, body ? { 'content-type': 'application/json' } : {}, body);
      expect([r.status, r.code], `${method} ${path}`).toEqual([401, 'SPROUT_ERR_HTTP_UNAUTHORIZED']);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'SPROUT_ERR_HTTP_UNAUTHORIZED' } });
    }
    expect(h.platform.names()).toEqual(['echo']);
  });

  it('answers 401 to a wrong token of the same length', async () => {
    const wrong = h.api.token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    expect(wrong).toHaveLength(h.api.token.length);
    const r = await call(
      'POST',
      '/v1/functions/echo/scale',
      {
        authorization: `Bearer ${wrong}`,
        'content-type': 'application/json',
      },
      scale,
    );
    expect([r.status, r.code]).toEqual([401, 'SPROUT_ERR_HTTP_UNAUTHORIZED']);
    expect((await call('GET', '/v1/functions', { authorization: `Bearer ${wrong}` })).status).toBe(401);
  });

  it('refuses a cross-origin POST (Origin: http://evil.example), token or not', async () => {
    for (const headers of [
      { ...json(), origin: 'http://evil.example' },
      { 'content-type': 'application/json', origin: 'http://evil.example' },
    ]) {
      const r = await call('POST', '/v1/functions/echo/scale', headers, scale);
      expect([r.status, r.code]).toEqual([403, 'SPROUT_ERR_HTTP_CROSS_ORIGIN']);
    }
    const fetchSite = await call(
      'POST',
      '/v1/functions/echo/scale',
      { ...json(), 'sec-fetch-site': 'cross-site' },
      scale,
    );
    expect(fetchSite.status).toBe(403);
    // No CORS headers: a preflight gets nothing that would let a page go on.
    const preflight = await call('OPTIONS', '/v1/functions', {
      origin: 'http://evil.example',
      'access-control-request-method': 'POST',
    });
    expect(preflight.status).toBe(403);
    // Its own origin (a console served by the API) passes.
    const same = await call('GET', '/v1/functions', { ...auth(), origin: h.api.url });
    expect(same.status).toBe(200);
  });

  it('refuses a text/plain POST with 415, with the token', async () => {
    for (const path of ['/v1/functions/echo/scale', '/v1/functions']) {
      const r = await call('POST', path, { ...auth(), 'content-type': 'text/plain' }, scale);
      expect([r.status, r.code], path).toEqual([415, 'SPROUT_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE']);
    }
    expect((await call('POST', '/v1/functions/echo/scale', json(), scale)).status).toBe(202);
  });

  it('refuses a foreign Host (DNS rebinding), on the public routes too', async () => {
    const port = new URL(h.api.url).port;
    for (const path of ['/v1/functions', '/v1/health']) {
      const r = await call('GET', path, { ...auth(), host: `evil.example:${port}` });
      expect([r.status, r.code], path).toEqual([403, 'SPROUT_ERR_HTTP_HOST_NOT_ALLOWED']);
    }
    expect((await call('GET', '/v1/functions', { ...auth(), host: `localhost:${port}` })).status).toBe(200);
  });

  it('keeps /v1/health public and passes any body type to an invoke (the function decides)', async () => {
    expect((await call('GET', '/v1/health', {})).status).toBe(200);
    const r = await call(
      'POST',
      '/v1/functions/echo/invoke/x',
      { ...auth(), 'content-type': 'text/plain' },
      'hi',
    );
    expect(r.status).toBe(200);
  });
});

describe('sprout dev API token', () => {
  it('is generated 0600 in the data dir at the first start, kept across starts and logged once', async () => {
    const first = await startTestDev(['echo'], { eip: false, collector: false, standby: 0 });
    const file = join(first.dataDir, 'api-token');
    let token: string;
    try {
      token = readFileSync(file, 'utf8').trim();
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(first.api.token).toBe(token);
      const lines = first.logs.filter((l) => l.msg === 'platform API');
      expect(lines).toEqual([expect.objectContaining({ token, tokenFile: file, url: first.api.url })]);
      expect((await fetch(`${first.api.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${first.api.url}/v1/functions`)).status).toBe(401);
    } finally {
      await first.close();
    }
    const again = await startTestDev(['echo'], {
      eip: false,
      collector: false,
      standby: 0,
      dataDir: first.dataDir,
    });
    try {
      expect(again.api.token).toBe(token);
      expect((await again.call('/v1/functions')).status).toBe(200);
    } finally {
      await again.close();
    }
    expect(fixtures).toBeTruthy();
  });
});
