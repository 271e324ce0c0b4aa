// The Dapr state HTTP API served by Sprout, driven by the official Dapr JS SDK and by raw HTTP,
// over SQLite, real Redis and real PostgreSQL (plus an in-memory store to check store selection).
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStateApiServer, StateStores, type StateApiServer } from '../src/index.js';
import { openStateStore } from '../src/index.js';
import { component, PG_URL, REDIS_HOST, tempDir, uniqueName } from './helpers.js';

const appId = uniqueName('httpapi');
const table = uniqueName('sprout_state_httpapi');
const tmp = tempDir('http');
let stores: StateStores;
let server: StateApiServer;
let base: string;
let client: DaprClient;

beforeAll(async () => {
  const opts = { appId, dataDir: tmp.dir, maxValueBytes: 8 * 1024 };
  stores = new StateStores([
    await openStateStore(component('sqlite-store', 'state.sqlite'), opts),
    await openStateStore(component('redis-store', 'state.redis', { redisHost: REDIS_HOST }), opts),
    await openStateStore(
      component('pg-store', 'state.postgresql', { connectionString: PG_URL, tableName: table }),
      opts,
    ),
    await openStateStore(component('cache', 'state.in-memory'), opts),
  ]);
  server = createStateApiServer({
    stores,
    appId,
    maxBodyBytes: 64 * 1024,
    logger: (await import('@sprout/observe')).createLogger({ level: 'silent' }),
  });
  const { port, url } = await server.listen(0);
  base = url;
  client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(port),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    // The SDK logs expected 409s at error level; this test checks them itself.
    logger: {
      level: LogLevel.Error,
      service: { error() {}, warn() {}, info() {}, verbose() {}, debug() {} },
    },
  });
});

afterAll(async () => {
  await client?.stop();
  await server?.close();
  await stores?.close();
  const redis = new Redis(`redis://${REDIS_HOST}`);
  const keys = await redis.keys(`${appId}||*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  await db.query(`DROP TABLE IF EXISTS "${table}"`);
  await db.end();
  tmp.remove();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, etag: res.headers.get('etag') };
}

describe('the Dapr SDK against sprout', () => {
  it('starts (it polls /v1.0/metadata) and sees every store', async () => {
    const md = await call('GET', '/v1.0/metadata');
    expect(md.json.id).toBe(appId);
    expect(md.json.components.map((c: { name: string }) => c.name).sort()).toEqual([
      'cache',
      'pg-store',
      'redis-store',
      'sqlite-store',
    ]);
    expect((await call('GET', '/v1.0/healthz')).status).toBe(204);
  });

  it('selects stores by name: the same key in two stores stays apart', async () => {
    await client.state.save('cache', [{ key: 'shared', value: 'from-cache' }]);
    await client.state.save('sqlite-store', [{ key: 'shared', value: 'from-sqlite' }]);
    expect(await client.state.get('cache', 'shared')).toBe('from-cache');
    expect(await client.state.get('sqlite-store', 'shared')).toBe('from-sqlite');
  });
});

describe.each(['sqlite-store', 'redis-store', 'pg-store'])('Dapr state API on %s', (store) => {
  it('save, get, delete through the SDK; a missing key is 204 with no body', async () => {
    const saved = await client.state.save(store, [
      { key: 'order-1', value: { id: 1, items: ['tea'] } },
      { key: 'greeting', value: 'hello' },
    ]);
    expect(saved.error).toBeUndefined();
    expect(await client.state.get(store, 'order-1')).toEqual({ id: 1, items: ['tea'] });
    expect(await client.state.get(store, 'greeting')).toBe('hello');
    const raw = await call('GET', `/v1.0/state/${store}/order-1`);
    expect(raw.status).toBe(200);
    expect(raw.etag).toMatch(/^\d+$/);
    const deleted = await client.state.delete(store, 'order-1');
    expect(deleted.error).toBeUndefined();
    const missing = await call('GET', `/v1.0/state/${store}/order-1`);
    expect(missing.status).toBe(204);
    expect(missing.text).toBe('');
    expect(await client.state.get(store, 'order-1')).toBe('');
  });

  it('etags: getBulk returns them, a stale one is a 409 for save and delete, the right one works', async () => {
    await client.state.save(store, [{ key: 'acct', value: { balance: 10 } }]);
    const [item] = await client.state.getBulk(store, ['acct']);
    const etag = item!.etag as string;
    expect(item).toMatchObject({ key: 'acct', data: { balance: 10 } });
    const ok = await client.state.save(store, [{ key: 'acct', value: { balance: 20 }, etag }]);
    expect(ok.error).toBeUndefined();
    const stale = await client.state.save(store, [{ key: 'acct', value: { balance: 30 }, etag }]);
    expect(JSON.parse((stale.error as Error).message).status).toBe(409);
    const staleDelete = await client.state.delete(store, 'acct', { etag });
    expect(JSON.parse((staleDelete.error as Error).message).status).toBe(409);
    expect(await client.state.get(store, 'acct')).toEqual({ balance: 20 });
    const fresh = await call('GET', `/v1.0/state/${store}/acct`);
    const del = await call('DELETE', `/v1.0/state/${store}/acct`, undefined, { 'if-match': fresh.etag! });
    expect(del.status).toBe(204);
    expect(await client.state.get(store, 'acct')).toBe('');
  });

  it('bulk get: found, missing and etags', async () => {
    await client.state.save(store, [
      { key: 'b1', value: 1 },
      { key: 'b2', value: { two: 2 } },
    ]);
    const items = await client.state.getBulk(store, ['b1', 'b2', 'b-none']);
    expect(items.map((i) => [i.key, i.data])).toEqual([
      ['b1', 1],
      ['b2', { two: 2 }],
      ['b-none', undefined],
    ]);
    expect(items[0]!.etag).toMatch(/^\d+$/);
  });

  it('transactions through the SDK are atomic', async () => {
    await client.state.save(store, [{ key: 'tx-old', value: 'old' }]);
    await client.state.transaction(store, [
      { operation: 'upsert', request: { key: 'tx-1', value: { n: 1 } } },
      { operation: 'delete', request: { key: 'tx-old' } },
    ]);
    expect(await client.state.get(store, 'tx-1')).toEqual({ n: 1 });
    expect(await client.state.get(store, 'tx-old')).toBe('');
    await expect(
      client.state.transaction(store, [
        { operation: 'upsert', request: { key: 'tx-2', value: 2 } },
        { operation: 'delete', request: { key: 'tx-1', etag: '987654' } },
      ]),
    ).rejects.toThrow(/409/);
    expect(await client.state.get(store, 'tx-2')).toBe('');
    expect(await client.state.get(store, 'tx-1')).toEqual({ n: 1 });
  });

  it('query through the SDK: filter, sort and page', async () => {
    await client.state.save(
      store,
      ['ana', 'bo', 'cy', 'di'].map((name, i) => ({
        key: `q-${name}`,
        value: { kind: 'person', name, age: 20 + i * 10, address: { city: i % 2 ? 'Oslo' : 'Rome' } },
      })),
    );
    const page1 = await client.state.query(store, {
      filter: { AND: [{ EQ: { kind: 'person' } }, { IN: { 'address.city': ['Oslo', 'Rome'] } }] },
      sort: [{ key: 'age', order: 'DESC' }],
      page: { limit: 3 },
    });
    expect(page1.results.map((r) => r.key)).toEqual(['q-di', 'q-cy', 'q-bo']);
    expect(page1.token).toBeTruthy();
    const page2 = await client.state.query(store, {
      filter: { EQ: { kind: 'person' } },
      sort: [{ key: 'age', order: 'DESC' }],
      page: { limit: 3, token: page1.token },
    });
    expect(page2.results.map((r) => r.key)).toEqual(['q-ana']);
    const older = await client.state.query(store, {
      filter: { GT: { age: 35 } } as never,
      sort: [{ key: 'name' }],
      page: { limit: 10 },
    });
    expect(older.results.map((r) => r.data)).toMatchObject([{ name: 'cy' }, { name: 'di' }]);
  });

  it('TTL through metadata: per item and as metadata.* query parameters', async () => {
    await client.state.save(store, [{ key: 'ttl-item', value: 1, metadata: { ttlInSeconds: '1' } }]);
    const r = await call('POST', `/v1.0/state/${store}?metadata.ttlInSeconds=1`, [
      { key: 'ttl-query', value: 2 },
    ]);
    expect(r.status).toBe(204);
    await client.state.save(store, [{ key: 'ttl-keep', value: 3 }]);
    const live = await fetch(`${base}/v1.0/state/${store}/ttl-item`);
    expect(Date.parse(live.headers.get('metadata.ttlexpiretime')!)).toBeGreaterThan(Date.now());
    const [bulkItem] = (await (
      await fetch(`${base}/v1.0/state/${store}/bulk`, { method: 'POST', body: '{"keys":["ttl-item"]}' })
    ).json()) as {
      metadata?: { ttlExpireTime: string };
    }[];
    expect(bulkItem!.metadata?.ttlExpireTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    await new Promise((res) => setTimeout(res, 1300));
    expect((await call('GET', `/v1.0/state/${store}/ttl-item`)).status).toBe(204);
    expect((await call('GET', `/v1.0/state/${store}/ttl-query`)).status).toBe(204);
    expect((await call('GET', `/v1.0/state/${store}/ttl-keep`)).json).toBe(3);
  });

  describe('bad input gets a Dapr error body with a Sprout code, and changes nothing', () => {
    const reason = (r: { json: any }) => r.json?.details?.[0]?.reason;

    it('malformed JSON', async () => {
      const r = await call('POST', `/v1.0/state/${store}`, '[{"key": "a", "value": ');
      expect(r.status).toBe(400);
      expect(r.json.errorCode).toBe('ERR_MALFORMED_REQUEST');
      expect(reason(r)).toBe('SPROUT_ERR_STATE_REQUEST_INVALID');
      expect((await call('POST', `/v1.0/state/${store}`, { key: 'not-an-array', value: 1 })).status).toBe(
        400,
      );
      expect((await call('POST', `/v1.0/state/${store}/bulk`, { keys: 'k' })).status).toBe(400);
    });

    it('an unknown store', async () => {
      const r = await call('GET', `/v1.0/state/no-such-store/k`);
      expect(r.status).toBe(400);
      expect(r.json.errorCode).toBe('ERR_STATE_STORE_NOT_FOUND');
      expect(r.json.message).toContain(store);
    });

    it('an invalid etag', async () => {
      await client.state.save(store, [{ key: 'etag-bad', value: 1 }]);
      const r = await call('DELETE', `/v1.0/state/${store}/etag-bad`, undefined, {
        'if-match': 'not-an-etag',
      });
      expect(r.status).toBe(400);
      expect(reason(r)).toBe('SPROUT_ERR_STATE_ETAG_INVALID');
      const s = await call('POST', `/v1.0/state/${store}`, [{ key: 'etag-bad', value: 2, etag: 'zzz' }]);
      expect(s.status).toBe(400);
      expect(s.json.errorCode).toBe('ERR_STATE_SAVE');
      expect(await client.state.get(store, 'etag-bad')).toBe(1);
    });

    it('an etag mismatch is 409 with the key named', async () => {
      await client.state.save(store, [{ key: 'etag-409', value: 1 }]);
      const r = await call('POST', `/v1.0/state/${store}`, [{ key: 'etag-409', value: 2, etag: '123456' }]);
      expect(r.status).toBe(409);
      expect(r.json.errorCode).toBe('ERR_STATE_SAVE');
      expect(r.json.details[0].metadata.key).toBe('etag-409');
      const d = await call('DELETE', `/v1.0/state/${store}/etag-409`, undefined, { 'if-match': '123456' });
      expect(d.status).toBe(409);
      expect(d.json.errorCode).toBe('ERR_STATE_DELETE');
    });

    it('oversized values and bodies', async () => {
      const v = await call('POST', `/v1.0/state/${store}`, [{ key: 'big', value: 'x'.repeat(10_000) }]);
      expect(v.status).toBe(413);
      expect(reason(v)).toBe('SPROUT_ERR_STATE_VALUE_TOO_LARGE');
      const b = await call('POST', `/v1.0/state/${store}`, [{ key: 'huge', value: 'x'.repeat(100_000) }]);
      expect(b.status).toBe(413);
      expect(reason(b)).toBe('SPROUT_ERR_STATE_BODY_TOO_LARGE');
      expect((await call('GET', `/v1.0/state/${store}/big`)).status).toBe(204);
    });

    it('a key with ||', async () => {
      const r = await call('POST', `/v1.0/state/${store}`, [{ key: 'a||b', value: 1 }]);
      expect(r.status).toBe(400);
      expect(reason(r)).toBe('SPROUT_ERR_STATE_KEY_INVALID');
      expect((await call('GET', `/v1.0/state/${store}/${encodeURIComponent('a||b')}`)).status).toBe(400);
    });

    it('a query on a missing path and a malformed query', async () => {
      await client.state.save(store, [{ key: 'qp', value: { a: 1 } }]);
      const r = await call('POST', `/v1.0-alpha1/state/${store}/query`, { sort: [{ key: 'no.such.path' }] });
      expect(r.status).toBe(400);
      expect(reason(r)).toBe('SPROUT_ERR_STATE_QUERY_PATH_MISSING');
      const m = await call('POST', `/v1.0-alpha1/state/${store}/query`, { filter: { REGEX: { a: '.*' } } });
      expect(m.status).toBe(400);
      expect(reason(m)).toBe('SPROUT_ERR_STATE_QUERY_INVALID');
    });

    it('a transaction with one bad operation applies none', async () => {
      const r = await call('POST', `/v1.0/state/${store}/transaction`, {
        operations: [
          { operation: 'upsert', request: { key: 'txbad-1', value: 1 } },
          { operation: 'merge', request: { key: 'txbad-2', value: 2 } },
        ],
      });
      expect(r.status).toBe(400);
      expect((await call('GET', `/v1.0/state/${store}/txbad-1`)).status).toBe(204);
    });

    it('random and mutated bodies never crash the server or answer 5xx (time-boxed fuzz)', async () => {
      const valid = JSON.stringify([
        { key: 'fz', value: { a: [1, 2, { b: 'c' }] }, metadata: { ttlInSeconds: '60' } },
      ]);
      const paths = [
        `/v1.0/state/${store}`,
        `/v1.0/state/${store}/bulk`,
        `/v1.0/state/${store}/transaction`,
        `/v1.0-alpha1/state/${store}/query`,
      ];
      let seed = 7;
      const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
      const deadline = Date.now() + 1500;
      let sent = 0;
      while (sent <= 20 || Date.now() < deadline) {
        let body: string;
        if (rnd(2)) body = Array.from({ length: rnd(60) }, () => String.fromCharCode(rnd(128))).join('');
        else {
          const cut = rnd(valid.length);
          body = valid.slice(0, cut) + String.fromCharCode(rnd(128)) + valid.slice(cut + rnd(3));
        }
        const r = await call('POST', paths[rnd(paths.length)]!, body);
        expect([200, 204, 400, 409, 413]).toContain(r.status);
        if (r.status >= 400) expect(r.json?.errorCode).toBeTruthy();
        sent++;
      }
      expect(sent).toBeGreaterThan(20);
      expect((await call('GET', '/v1.0/healthz')).status).toBe(204);
    });
  });
});

describe('bodies split at random points', () => {
  it('a valid body arriving in random chunks is read whole (time-boxed)', async () => {
    const { request } = await import('node:http');
    const port = Number(new URL(base).port);
    let seed = 5;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const deadline = Date.now() + 1000;
    let n = 0;
    while (n <= 3 || Date.now() < deadline) {
      const body = Buffer.from(
        JSON.stringify([{ key: `split-${n}`, value: { n, text: 'ü€𝄞'.repeat(rnd(40)) } }]),
      );
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/v1.0/state/cache',
            headers: { 'content-length': body.length },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        void (async () => {
          let at = 0;
          while (at < body.length) {
            const next = Math.min(body.length, at + 1 + rnd(16));
            req.write(body.subarray(at, next)); // may cut a UTF-8 character in two
            at = next;
            await new Promise((r) => setImmediate(r));
          }
          req.end();
        })();
      });
      expect(status).toBe(204);
      expect(((await call('GET', `/v1.0/state/cache/split-${n}`)).json as { n: number }).n).toBe(n);
      n++;
    }
    expect(n).toBeGreaterThan(3);
  });
});

describe('routing and metrics', () => {
  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expect((await call('GET', '/v1.0/nothing')).status).toBe(404);
    expect((await call('PUT', '/v1.0/state/cache/k', '1')).status).toBe(405);
    expect((await call('GET', '/v1.0/state/cache/%E0%A4%A')).status).toBe(400);
  });

  it('counts requests at /metrics', async () => {
    const r = await fetch(`${base}/metrics`);
    const text = await r.text();
    expect(text).toMatch(/sprout_state_requests_total\{store="cache",operation="save",status="204"\} \d+/);
  });
});
