// The state tests of the official Dapr JS SDK's own e2e suite (dapr/js-sdk test/e2e/common/client.test.ts,
// describe "state", Apache-2.0), ported: the same calls through the official @dapr/dapr client
// against Sprout's Dapr state API, on SQLite, real Redis and real PostgreSQL. Where Dapr's stores
// differ (an etag on a missing key: Redis accepts, PostgreSQL and SQLite refuse), each store is
// held to what Dapr does on it.
import {
  CommunicationProtocolEnum,
  DaprClient,
  LogLevel,
  StateConcurrencyEnum,
  StateConsistencyEnum,
} from '@dapr/dapr';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStateApiServer, openStateStore, StateStores, type StateApiServer } from '../src/index.js';
import { component, PG_URL, REDIS_HOST, tempDir, uniqueName } from './helpers.js';

const appId = uniqueName('sdke2e');
const table = uniqueName('sprout_state_sdke2e');
const tmp = tempDir('sdk-e2e');
let stores: StateStores;
let server: StateApiServer;
let client: DaprClient;
/** The error message the SDK resolves a failed save or delete with; undefined on success. */
const errorOf = (r: unknown) => (r as { error?: Error } | undefined)?.error?.message;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const opts = { appId, dataDir: tmp.dir };
  stores = new StateStores([
    await openStateStore(component('state-sqlite', 'state.sqlite'), opts),
    // the SDK's own component file's metadata (test/components/state-redis.yaml)
    await openStateStore(
      component('state-redis', 'state.redis', {
        redisHost: REDIS_HOST,
        redisPassword: '',
        enableTLS: 'false',
        failover: 'false',
        actorStateStore: 'true',
      }),
      opts,
    ),
    await openStateStore(
      component('state-postgresql', 'state.postgresql', { connectionString: PG_URL, tableName: table }),
      opts,
    ),
  ]);
  server = createStateApiServer({
    stores,
    appId,
    logger: (await import('@sprout/observe')).createLogger({ level: 'silent' }),
  });
  const { port } = await server.listen(0);
  client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(port),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
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

describe.each([
  ['state-redis', 'accept'],
  ['state-postgresql', 'refuse'],
  ['state-sqlite', 'refuse'],
] as const)('Dapr JS SDK e2e state tests on %s', (store, etagOnMissingKey) => {
  beforeEach(async () => {
    await client.state.delete(store, 'key-1');
    await client.state.delete(store, 'key-2');
    await client.state.delete(store, 'key-3');
  });

  it('should be able to save the state', async () => {
    await client.state.save(store, [
      { key: 'key-1', value: 'value-1' },
      { key: 'key-2', value: 'value-2' },
      { key: 'key-3', value: 'value-3' },
    ]);
    expect(await client.state.get(store, 'key-1')).toEqual('value-1');
  });

  it(`should be able to add metadata, etag and options (an etag on a missing key: ${etagOnMissingKey})`, async () => {
    const save = client.state.save(store, [
      {
        key: 'key-1',
        value: 'value-1',
        etag: '1234',
        options: {
          concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE,
          consistency: StateConsistencyEnum.CONSISTENCY_STRONG,
        },
        metadata: { hello: 'world', ttlInSeconds: '1' },
      },
      { key: 'key-2', value: 'value-2' },
      { key: 'key-3', value: 'value-3' },
    ]);
    if (etagOnMissingKey === 'refuse') {
      // Dapr's PostgreSQL and SQLite stores answer an etag on a missing key with a conflict;
      // the request is all-or-nothing here, so nothing is written.
      // (the SDK resolves save and delete with { error } rather than rejecting)
      const error = errorOf(await save);
      expect(error).toMatch(/"status":409/);
      expect(error).toContain('SPROUT_ERR_STATE_ETAG_MISMATCH');
      expect(await client.state.get(store, 'key-1')).toBeFalsy();
      expect(await client.state.get(store, 'key-2')).toBeFalsy();
      return;
    }
    expect(errorOf(await save)).toBeUndefined();
    expect(await client.state.get(store, 'key-1')).toEqual('value-1');
    await sleep(2000);
    expect(await client.state.get(store, 'key-1')).toBeFalsy();
  }, 20_000);

  it('should be able to save the state with request metadata (the request TTL overrides the item TTL)', async () => {
    await client.state.save(
      store,
      [
        { key: 'key-1', value: 'value-1', metadata: { ttlInSeconds: '1' } },
        { key: 'key-2', value: 'value-2' },
      ],
      { metadata: { ttlInSeconds: '3' } },
    );
    const data = async () =>
      Object.fromEntries(
        (await client.state.getBulk(store, ['key-1', 'key-2'])).map((r) => [r.key, r.data as unknown]),
      );
    expect(await data()).toEqual({ 'key-1': 'value-1', 'key-2': 'value-2' });
    await sleep(1500);
    expect(await data()).toEqual({ 'key-1': 'value-1', 'key-2': 'value-2' });
    await sleep(2000);
    const gone = await data();
    expect(gone['key-1']).toBeFalsy();
    expect(gone['key-2']).toBeFalsy();
  }, 20_000);

  it('should be able to get the state in bulk', async () => {
    await client.state.save(store, [
      { key: 'key-1', value: 'value-1' },
      { key: 'key-2', value: 'value-2' },
      { key: 'key-3', value: 'value-3' },
    ]);
    expect(await client.state.getBulk(store, ['key-3', 'key-2'])).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'key-2', data: 'value-2' }),
        expect.objectContaining({ key: 'key-3', data: 'value-3' }),
      ]),
    );
  });

  it('should be able to delete a key from the state store', async () => {
    await client.state.save(store, [
      { key: 'key-1', value: 'value-1' },
      { key: 'key-2', value: 'value-2' },
    ]);
    await client.state.delete(store, 'key-2');
    expect(await client.state.get(store, 'key-2')).toEqual('');
    expect(await client.state.get(store, 'key-1')).toEqual('value-1');
  });

  it('should be able to perform a transaction that replaces a key and deletes another', async () => {
    await client.state.save(store, [
      { key: 'key-1', value: 'value-1' },
      { key: 'key-3', value: 'value-3' },
    ]);
    await client.state.transaction(store, [
      { operation: 'upsert', request: { key: 'key-1', value: 'my-new-data-1' } },
      { operation: 'delete', request: { key: 'key-3' } },
    ]);
    expect(await client.state.get(store, 'key-3')).toEqual('');
    expect(await client.state.get(store, 'key-1')).toEqual('my-new-data-1');
  });

  it(`deleting a missing key with an etag: ${etagOnMissingKey}`, async () => {
    const del = errorOf(await client.state.delete(store, 'key-1', { etag: '5' }));
    if (etagOnMissingKey === 'accept') expect(del).toBeUndefined();
    else expect(del).toContain('SPROUT_ERR_STATE_ETAG_MISMATCH');
  });
});
