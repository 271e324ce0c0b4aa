import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { createStateApiServer, MemoryStateStore, type StateApiServer } from '@sprout/state';

const servers: StateApiServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function serve(apiToken?: string): Promise<{ port: number; store: MemoryStateStore }> {
  const store = new MemoryStateStore('guarded');
  const server = createStateApiServer({ stores: [store], ...(apiToken ? { apiToken } : {}) });
  servers.push(server);
  const { port } = await server.listen(0);
  return { port, store };
}

/** A raw request, sending the Host and Origin given as a browser tricked by a page would. */
function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: { errorCode?: string; details?: { reason: string }[] } | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const save = '[{"key":"k","value":"from a page"}]';

describe('the Dapr state API without a token', () => {
  it('refuses a cross-origin POST and saves nothing', async () => {
    const { port, store } = await serve();
    for (const headers of [
      { origin: 'http://evil.example', 'content-type': 'text/plain' },
      { 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' },
    ]) {
      const r = await call(port, 'POST', '/v1.0/state/guarded', headers, save);
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({
        errorCode: 'ERR_PERMISSION_DENIED',
        details: [{ reason: 'SPROUT_ERR_HTTP_CROSS_ORIGIN' }],
      });
    }
    expect(await store.get('k')).toBeUndefined();
    // A program (curl -d, the SDKs) sends no Origin and any body type: saved.
    const ok = await call(
      port,
      'POST',
      '/v1.0/state/guarded',
      { 'content-type': 'application/x-www-form-urlencoded' },
      save,
    );
    expect(ok.status).toBe(204);
    expect((await call(port, 'GET', '/v1.0/state/guarded/k', {})).status).toBe(200);
  });

  it('refuses a foreign Host (DNS rebinding), on every route', async () => {
    const { port } = await serve();
    for (const path of ['/v1.0/state/guarded/k', '/v1.0/healthz', '/v1.0/metadata']) {
      const r = await call(port, 'GET', path, { host: `evil.example:${port}` });
      expect(r.status, path).toBe(403);
      expect(r.body?.details?.[0]?.reason).toBe('SPROUT_ERR_HTTP_HOST_NOT_ALLOWED');
    }
    expect((await call(port, 'GET', '/v1.0/healthz', { host: `localhost:${port}` })).status).toBe(204);
  });
});

describe('the Dapr state API with a token', () => {
  it('answers 401 to a missing token and to a wrong one of the same length', async () => {
    const token = 't'.repeat(40);
    const { port } = await serve(token);
    for (const headers of [{}, { 'dapr-api-token': 'u'.repeat(40) }]) {
      const r = await call(port, 'POST', '/v1.0/state/guarded', headers, save);
      expect(r.status).toBe(401);
      expect(r.body?.details?.[0]?.reason).toBe('SPROUT_ERR_STATE_UNAUTHORIZED');
    }
    const json = { 'dapr-api-token': token, 'content-type': 'application/json' };
    expect((await call(port, 'POST', '/v1.0/state/guarded', json, save)).status).toBe(204);
    const evil = await call(
      port,
      'POST',
      '/v1.0/state/guarded',
      { 'dapr-api-token': token, origin: 'http://evil.example' },
      save,
    );
    expect(evil.status).toBe(403);
  });

  it('takes writes as application/json only: a form, text/plain or untyped body is a 415 and saves nothing', async () => {
    const token = 'j'.repeat(40);
    const { port, store } = await serve(token);
    const body = '[{"key":"typed","value":"from a form"}]';
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      undefined,
    ]) {
      const headers: Record<string, string> = { 'dapr-api-token': token };
      if (type) headers['content-type'] = type;
      for (const path of ['/v1.0/state/guarded', '/v1.0/state/guarded/transaction']) {
        const r = await call(port, 'POST', path, headers, body);
        expect([type, path, r.status]).toEqual([type, path, 415]);
        expect(r.body?.details?.[0]?.reason).toBe('SPROUT_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
      }
    }
    expect(await store.get('typed')).toBeUndefined();
    // Without the token the token check answers first (401), whatever the type.
    expect(
      (await call(port, 'POST', '/v1.0/state/guarded', { 'content-type': 'text/plain' }, body)).status,
    ).toBe(401);
    // Reads and deletes carry no body and pass.
    const json = { 'dapr-api-token': token, 'content-type': 'application/json; charset=utf-8' };
    expect((await call(port, 'POST', '/v1.0/state/guarded', json, body)).status).toBe(204);
    expect((await call(port, 'GET', '/v1.0/state/guarded/typed', { 'dapr-api-token': token })).status).toBe(
      200,
    );
    expect(
      (await call(port, 'DELETE', '/v1.0/state/guarded/typed', { 'dapr-api-token': token })).status,
    ).toBe(204);
  });
});
