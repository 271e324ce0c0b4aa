import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../src/index.js';
import { describeConformance } from './conformance.js';
import { component, PG_URL, uniqueName } from './helpers.js';

const table = uniqueName('sprout_state_pgtest');
const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
afterAll(async () => {
  await admin.query(`DROP TABLE IF EXISTS "${table}"`);
  await admin.query(`DROP TABLE IF EXISTS "${table}_ttl"`);
  await admin.end();
});

describeConformance('postgresql', {
  open: ({ appId, maxValueBytes }) =>
    openStateStore(component('db', 'state.postgresql', { connectionString: PG_URL, tableName: table }), {
      appId,
      dataDir: '.',
      ...(maxValueBytes ? { maxValueBytes } : {}),
    }),
});

describe('postgresql engine', () => {
  it('stores values as jsonb with a bigint etag and purges expired rows', async () => {
    const t = `${table}_ttl`;
    const store = await openStateStore(
      component('db', 'state.postgresql', {
        connectionString: PG_URL,
        tableName: t,
        cleanupInterval: '300ms',
      }),
      { appId: 'pgapp', dataDir: '.' },
    );
    await store.save({ key: 'j', value: { nested: { n: 1 } } });
    const { rows } = await admin.query(`SELECT key, value->'nested'->>'n' AS n, etag FROM "${t}"`);
    expect(rows).toEqual([{ key: 'pgapp||j', n: '1', etag: '1' }]);
    await store.save({ key: 'gone', value: 1, metadata: { ttlInSeconds: '1' } });
    await new Promise((r) => setTimeout(r, 1700));
    const left = await admin.query(`SELECT key FROM "${t}" ORDER BY key`);
    expect(left.rows.map((r: { key: string }) => r.key)).toEqual(['pgapp||j']);
    await store.close();
  });

  it('fails with ENGINE_UNAVAILABLE when the server cannot be reached', async () => {
    await expect(
      openStateStore(
        component('db', 'state.postgresql', { connectionString: 'postgres://postgres@127.0.0.1:1/test' }),
        {
          appId: 'a',
          dataDir: '.',
        },
      ),
    ).rejects.toMatchObject({ code: 'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE' });
  });

  it('maps a value PostgreSQL cannot hold to VALUE_INVALID, not a crash', async () => {
    const store = await openStateStore(
      component('db', 'state.postgresql', { connectionString: PG_URL, tableName: table }),
      {
        appId: 'pg-nul',
        dataDir: '.',
      },
    );
    await expect(store.save({ key: 'nul', value: 'a\u0000b' })).rejects.toMatchObject({
      code: 'SPROUT_ERR_STATE_VALUE_INVALID',
    });
    await store.close();
  });
});
