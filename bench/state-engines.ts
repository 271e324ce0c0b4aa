// ctx.state (a StateStore from @sprout/state) against the bare client of the same store, in the same
// run: better-sqlite3, ioredis, pg. Save and get measured separately, 16 operations in flight.
// Also: embedded SQLite saves/s with durability on (synchronous=FULL), 64 in flight.
//
//   node --conditions=@sprout/source --import tsx bench/state-engines.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { parseComponent } from '@sprout/spec';
import { openStateStore, type StateStore } from '@sprout/state';
import { compare, fmt, measure, value, writeResults, type Figures } from './state-harness.js';

const PG_URL = process.env.SPROUT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS = process.env.SPROUT_TEST_REDIS_HOST ?? '127.0.0.1:6379';
const KEYS = 1000;
const tag = `bench_${process.pid}`;
const tmp = mkdtempSync(join(tmpdir(), 'sprout-bench-state-'));

function component(type: string, metadata: Record<string, string>) {
  return parseComponent({
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'bench' },
    spec: {
      type,
      version: 'v1',
      metadata: Object.entries(metadata).map(([name, v]) => ({ name, value: v })),
    },
  });
}

interface Pair {
  save: Figures;
  get: Figures;
}

/** ctx.state and the bare client, save then get, in alternating rounds. */
async function pair(
  store: StateStore,
  bareSave: (i: number) => Promise<unknown>,
  bareGet: (i: number) => Promise<unknown>,
): Promise<[Pair, Pair]> {
  const save = await compare((i) => store.save({ key: `k${i % KEYS}`, value: value(i) }), bareSave);
  const get = await compare((i) => store.get(`k${i % KEYS}`), bareGet);
  return [
    { save: save.a, get: get.a },
    { save: save.b, get: get.b },
  ];
}

const results: Record<string, { state: Pair; bare: Pair; ratio: { save: number; get: number } }> = {};
const report = (engine: string, state: Pair, bare: Pair) => {
  const ratio = {
    save: Number((state.save.opsPerSec / bare.save.opsPerSec).toFixed(2)),
    get: Number((state.get.opsPerSec / bare.get.opsPerSec).toFixed(2)),
  };
  results[engine] = { state, bare, ratio };
  console.log(`\n${engine}`);
  console.log(
    `  save  ctx.state ${fmt(state.save)}\n        bare      ${fmt(bare.save)}   ratio ${ratio.save}x`,
  );
  console.log(
    `  get   ctx.state ${fmt(state.get)}\n        bare      ${fmt(bare.get)}   ratio ${ratio.get}x`,
  );
};

// --- Redis: ctx.state (Lua-checked hash {data, version}) vs ioredis SET/GET of the JSON text.
{
  const store = await openStateStore(component('state.redis', { redisHost: REDIS }), {
    appId: `${tag}-state`,
    dataDir: tmp,
  });
  const redis = new Redis(`redis://${REDIS}`);
  const [state, bare] = await pair(
    store,
    (i) => redis.set(`${tag}-bare||k${i % KEYS}`, JSON.stringify(value(i))),
    async (i) => {
      const s = await redis.get(`${tag}-bare||k${i % KEYS}`);
      return s === null ? undefined : JSON.parse(s);
    },
  );
  await store.close();
  report('redis', state, bare);
  for (const p of [`${tag}-state||*`, `${tag}-bare||*`]) {
    const keys = await redis.keys(p);
    while (keys.length) await redis.del(...keys.splice(0, 500));
  }
  await redis.quit();
}

// --- PostgreSQL: ctx.state (jsonb + etag + ttl columns) vs pg upsert/select of jsonb on a plain table.
{
  const table = `sprout_${tag}`;
  const store = await openStateStore(
    component('state.postgresql', { connectionString: PG_URL, tableName: `${table}_state` }),
    {
      appId: 'bench',
      dataDir: tmp,
    },
  );
  const pool = new pg.Pool({ connectionString: PG_URL, max: 10 });
  await pool.query(`CREATE TABLE "${table}_bare" (key text PRIMARY KEY, value jsonb NOT NULL)`);
  const [state, bare] = await pair(
    store,
    (i) =>
      pool.query(
        `INSERT INTO "${table}_bare" (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [`k${i % KEYS}`, JSON.stringify(value(i))],
      ),
    async (i) =>
      (await pool.query(`SELECT value FROM "${table}_bare" WHERE key = $1`, [`k${i % KEYS}`])).rows[0],
  );
  await store.close();
  report('postgresql', state, bare);
  await pool.query(`DROP TABLE IF EXISTS "${table}_bare"; DROP TABLE IF EXISTS "${table}_state"`);
  await pool.end();
}

// --- SQLite: ctx.state (WAL, synchronous=FULL, group commit) vs better-sqlite3 (WAL, synchronous=FULL, one commit per save).
let durable: Figures;
{
  const store = await openStateStore(component('state.sqlite', {}), { appId: 'bench', dataDir: tmp });
  const db = new Database(join(tmp, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  const put = db.prepare(
    'INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  const read = db.prepare<[string], { value: string }>('SELECT value FROM state WHERE key = ?');
  const [state, bare] = await pair(
    store,
    async (i) => put.run(`k${i % KEYS}`, JSON.stringify(value(i))),
    async (i) => {
      const row = read.get(`k${i % KEYS}`);
      return row ? JSON.parse(row.value) : undefined;
    },
  );
  durable = await measure((i) => store.save({ key: `d${i % 10_000}`, value: value(i) }), { concurrency: 64 });
  await store.close();
  db.close();
  report('sqlite', state, bare);
  console.log(
    `\nsqlite durable saves (synchronous=FULL, 64 in flight): ${fmt(durable)}   target ≥ 20000 saves/s`,
  );
}

rmSync(tmp, { recursive: true, force: true });
const file = writeResults('state-engines', {
  method:
    'ctx.state and bare client measured in 3 alternating rounds of 3 s (0.5 s warm-up each), median round reported; 16 operations in flight (64 for the durable SQLite figure); 1000 keys, ~180-byte JSON values',
  targets: { redisRatio: 0.8, postgresqlRatio: 0.8, sqliteDurableSavesPerSec: 20000 },
  results,
  sqliteDurableSaves: durable,
});
console.log(`\nwrote ${file}`);
