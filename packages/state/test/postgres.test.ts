import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MemoryStateStore,
  PostgresEngine,
  isStateError,
  openStateStore,
  type QueryFilter,
} from '../src/index.js';
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
  it('connects with a libpq keyword/value connection string as well as a URL', async () => {
    const url = new URL(PG_URL);
    const conninfo =
      `host=${url.hostname} user=${decodeURIComponent(url.username) || 'postgres'} ` +
      `password='${decodeURIComponent(url.password)}' port=${url.port || 5432} connect_timeout=10 ` +
      `database=${url.pathname.slice(1)}`;
    const store = await openStateStore(
      component('db', 'state.postgresql', { connectionString: conninfo, tableName: table }),
      { appId: 'pg-conninfo', dataDir: '.' },
    );
    await store.save({ key: 'k', value: { via: 'keywords' } });
    const { rows } = await admin.query(`SELECT value FROM "${table}" WHERE key = 'pg-conninfo||k'`);
    expect(rows).toEqual([{ value: { via: 'keywords' } }]);
    await store.close();
    let err: unknown;
    try {
      await openStateStore(
        component('db', 'state.postgresql', { connectionString: `${conninfo} dbname=nope_${table}` }),
        { appId: 'pg-conninfo', dataDir: '.' },
      );
    } catch (e) {
      err = e;
    }
    expect(isStateError(err)).toBe(true);
  });

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

  it('pushes EQ/IN filters down to jsonb and returns a superset for the rest', async () => {
    const engine = new PostgresEngine({ connectionString: PG_URL, table });
    const row = (key: string, v: unknown) => ({
      op: 'set' as const,
      key: `push||${key}`,
      value: JSON.stringify(v),
    });
    await engine.write([
      row('a', { kind: 'x', n: 1, tags: ['t1'], o: { b: 1, a: 2 } }),
      row('b', { kind: 'y', n: 2 }),
      row('c', { kind: 'z', n: 3.0 }),
    ]);
    const keys = async (f?: Parameters<PostgresEngine['scan']>[1]) =>
      (await engine.scan('push||', f)).map((r) => r.key).sort();
    expect(await keys({ EQ: { kind: 'x' } })).toEqual(['push||a']);
    expect(await keys({ IN: { kind: ['y', 'z'] } })).toEqual(['push||b', 'push||c']);
    expect(await keys({ EQ: { n: 3 } })).toEqual(['push||c']);
    expect(await keys({ EQ: { 'tags.0': 't1' } })).toEqual(['push||a']);
    expect(await keys({ EQ: { o: { a: 2, b: 1 } } })).toEqual(['push||a']);
    expect(await keys({ AND: [{ EQ: { kind: 'y' } }, { GT: { n: 0 } }] })).toEqual(['push||b']);
    expect(await keys({ OR: [{ EQ: { kind: 'y' } }, { GT: { n: 2 } }] })).toHaveLength(3); // GT is not pushed down
    expect(await keys({ IN: { kind: [] } })).toEqual([]);
    await engine.write([
      { op: 'delete', key: 'push||a' },
      { op: 'delete', key: 'push||b' },
      { op: 'delete', key: 'push||c' },
    ]);
    await engine.close();
  });

  it('answers random queries exactly as the in-memory engine does (differential, time-boxed)', async () => {
    const store = await openStateStore(
      component('db', 'state.postgresql', { connectionString: PG_URL, tableName: table }),
      {
        appId: 'pg-diff',
        dataDir: '.',
      },
    );
    const memory = new MemoryStateStore('diff');
    let seed = 17;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const atoms = [0, 1, 2, 2.5, 'a', 'b', 'A', true, false, null, [1, 2], { x: 1 }];
    const items = Array.from({ length: 30 }, (_, i) => ({
      key: `d${i}`,
      value: {
        n: atoms[rnd(5)],
        s: atoms[4 + rnd(3)],
        f: atoms[7 + rnd(3)],
        nested: { v: atoms[rnd(atoms.length)] },
        list: [atoms[rnd(4)]],
      },
    }));
    await store.save(items);
    await memory.save(items);
    const paths = ['n', 's', 'f', 'nested.v', 'list.0', 'missing'];
    const ops = ['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE', 'IN'];
    const gen = (depth: number): QueryFilter => {
      const r = rnd(10);
      if (depth < 2 && r < 2) return { [r ? 'AND' : 'OR']: [gen(depth + 1), gen(depth + 1)] } as QueryFilter;
      const op = ops[rnd(ops.length)]!;
      const v = op === 'IN' ? [atoms[rnd(atoms.length)], atoms[rnd(atoms.length)]] : atoms[rnd(atoms.length)];
      return { [op]: { [paths[rnd(paths.length)]!]: v } } as QueryFilter;
    };
    const deadline = Date.now() + 1500;
    let runs = 0;
    while (runs <= 10 || Date.now() < deadline) {
      const filter = gen(0);
      const keysOf = async (s: typeof memory) => {
        try {
          return (await s.query({ filter })).results.map((r) => r.key);
        } catch (err) {
          return isStateError(err) ? err.code : String(err);
        }
      };
      expect(await keysOf(store as typeof memory), JSON.stringify(filter)).toEqual(await keysOf(memory));
      runs++;
    }
    expect(runs).toBeGreaterThan(10);
    await store.bulkDelete(items.map((i) => ({ key: i.key })));
    await store.close();
  });

  it('survives its connections being killed mid-test: a typed error at most, then it works again', async () => {
    const appName = uniqueName('sprout_pgdown');
    const store = await openStateStore(
      component('db', 'state.postgresql', {
        connectionString: `${PG_URL}?application_name=${appName}`,
        tableName: table,
      }),
      { appId: 'pg-down', dataDir: '.' },
    );
    await store.save({ key: 'k', value: 1 });
    for (let round = 0; round < 3; round++) {
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [appName],
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      const outcome = await store
        .transaction([
          { operation: 'upsert', request: { key: 'k', value: round + 2 } },
          { operation: 'upsert', request: { key: 'k2', value: round + 2 } },
        ])
        .then(
          () => 'ok',
          (err: { code?: string }) => err.code,
        );
      expect(['ok', 'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE']).toContain(outcome);
      let after: unknown;
      for (let i = 0; i < 20 && after === undefined; i++) {
        after = await store.bulkGet<number>(['k', 'k2']).then(
          (items) => items.map((x) => x.value),
          () => undefined,
        );
      }
      const [k, k2] = after as number[];
      if (outcome === 'ok') expect([k, k2]).toEqual([round + 2, round + 2]);
      else expect(k2 === undefined || k2 === k).toBe(true); // all or nothing
    }
    await store.bulkDelete([{ key: 'k' }, { key: 'k2' }]);
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
