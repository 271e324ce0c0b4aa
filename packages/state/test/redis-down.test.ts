// Redis stopped mid-test: a private redis-server on a free port is killed while a store and the
// HTTP API use it. Calls fail fast with ENGINE_UNAVAILABLE, nothing crashes, other stores keep
// working, no partial transaction shows, and the store recovers when Redis is back.
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@sprout/http/testing';
import { createLogger } from '@sprout/observe';
import {
  createStateApiServer,
  openStateStore,
  StateStores,
  type StateApiServer,
  type StateStore,
} from '../src/index.js';
import { expectCode } from './conformance.js';
import { component } from './helpers.js';

async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return proc;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
  proc.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

describe('Redis stopped mid-test', () => {
  let port: number;
  let redis: ChildProcess;
  let store: StateStore;
  let stores: StateStores;
  let server: StateApiServer;
  let base: string;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    store = await openStateStore(component('volatile', 'state.redis', { redisHost: `127.0.0.1:${port}` }), {
      appId: 'down-test',
      dataDir: '.',
    });
    stores = new StateStores([
      store,
      await openStateStore(component('cache', 'state.in-memory'), { appId: 'down-test', dataDir: '.' }),
    ]);
    server = createStateApiServer({ stores, logger: createLogger({ level: 'silent' }) });
    base = (await server.listen(0)).url;
  });
  afterAll(async () => {
    await server?.close();
    await stores?.close();
    if (redis) await stop(redis);
  });

  it('fails fast with ENGINE_UNAVAILABLE, keeps serving, and recovers', async () => {
    await store.save({ key: 'before', value: 1 });
    expect((await store.get('before'))?.value).toBe(1);

    await stop(redis);
    const started = Date.now();
    await expectCode(store.get('before'), 'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE');
    await expectCode(store.save({ key: 'during', value: 2 }), 'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE');
    await expectCode(
      store.transaction([
        { operation: 'upsert', request: { key: 'tx-a', value: 1 } },
        { operation: 'upsert', request: { key: 'tx-b', value: 2 } },
      ]),
      'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE',
    );
    await expectCode(store.query({}), 'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE');
    const bulk = await store.bulkSave([{ key: 'b1', value: 1 }]);
    expect(bulk[0]!.error?.code).toBe('SPROUT_ERR_STATE_ENGINE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(5000);

    const r = await fetch(`${base}/v1.0/state/volatile/before`);
    expect(r.status).toBe(503);
    const body = (await r.json()) as { errorCode: string; details: { reason: string }[] };
    expect(body.errorCode).toBe('ERR_STATE_GET');
    expect(body.details[0]!.reason).toBe('SPROUT_ERR_STATE_ENGINE_UNAVAILABLE');
    // the other store, and the server, are unaffected
    const ok = await fetch(`${base}/v1.0/state/cache`, {
      method: 'POST',
      body: JSON.stringify([{ key: 'k', value: 'v' }]),
    });
    expect(ok.status).toBe(204);
    expect(await (await fetch(`${base}/v1.0/state/cache/k`)).json()).toBe('v');

    // Redis comes back (empty: it was started without persistence) and the same store works again.
    redis = await startRedis(port);
    let recovered = false;
    for (let i = 0; i < 60 && !recovered; i++) {
      try {
        await store.save({ key: 'after', value: 3 });
        recovered = true;
      } catch {
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    expect(recovered).toBe(true);
    expect((await store.get('after'))?.value).toBe(3);
    expect(await store.get('tx-a')).toBeUndefined();
    expect(await store.get('during')).toBeUndefined();
  }, 30_000);
});
