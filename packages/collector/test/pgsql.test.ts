import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector, parseConfig } from '../src/index.js';
import { quiet, run } from './helpers.js';

// Real peer: PostgreSQL on 127.0.0.1:5432 (trust auth), database `test`. Tables unique to this file.
const suffix = `${process.pid}_${Date.now()}`;
const tables = { plain: `collector_pgsql_plain_${suffix}`, pooled: `collector_pgsql_pool_${suffix}` };

describe('pgsql output with PostgreSQL', () => {
  const db = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  beforeAll(async () => {
    await db.connect();
    for (const t of Object.values(tables)) await db.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(t)}`);
  });
  afterAll(async () => {
    for (const t of Object.values(tables)) await db.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(t)}`);
    await db.end();
  });

  const collector = (keys: string) =>
    createCollector(
      parseConfig(`
service: { flush: 0.02, scheduler.base: 0.02, scheduler.cap: 0.1 }
pipeline:
  outputs:
    - { name: pgsql, match: '*', host: 127.0.0.1, user: postgres, database: test, ${keys} }
`),
      { logger: quiet },
    );

  it('creates the table (tag, time, data jsonb) and inserts every record of mixed-tag batches', async () => {
    const c = collector(`table: ${tables.plain}, timestamp_key: ts`);
    await c.start();
    const base = 1_700_000_000_000_000_000n;
    const records = Array.from({ length: 250 }, (_, i) => ({
      tag: i % 3 ? 'app.web' : "app.o'quote",
      time: base + BigInt(i) * 1_000_000n,
      body: { i, msg: `line ${i}`, nested: { ok: i % 2 === 0 } },
    }));
    await c.push(records);
    await c.flush();
    const cols = await db.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
      [tables.plain],
    );
    expect(cols.rows).toEqual([
      { column_name: 'tag', data_type: 'character varying' },
      { column_name: 'time', data_type: 'timestamp without time zone' },
      { column_name: 'data', data_type: 'jsonb' },
    ]);
    const rows = await db.query<{ tag: string; data: Record<string, unknown>; epoch_ms: string }>(
      `SELECT tag, data, (extract(epoch from time::timestamptz) * 1000)::bigint AS epoch_ms FROM ${pg.escapeIdentifier(tables.plain)} ORDER BY (data->>'i')::int`,
    );
    expect(rows.rows).toHaveLength(records.length);
    for (const [k, r] of rows.rows.entries()) {
      const want = records[k]!;
      expect(r.tag).toBe(want.tag);
      expect(r.data).toEqual({ ts: Number(want.time / 1000n) / 1e6, ...want.body });
      expect(BigInt(r.epoch_ms)).toBe(want.time / 1_000_000n);
    }
    // Dropped while running: the next batch fails once, the retry creates the table again.
    await db.query(`DROP TABLE ${pg.escapeIdentifier(tables.plain)}`);
    await c.push({ tag: 'again', body: { back: true } });
    await c.flush();
    const again = await db.query(
      `SELECT tag, data->>'back' AS back FROM ${pg.escapeIdentifier(tables.plain)}`,
    );
    expect(again.rows).toEqual([{ tag: 'again', back: 'true' }]);
    await c.close();
  });

  it('async with a pool appends to an existing table; a failing insert is retried and then dropped, counted', async () => {
    await db.query(
      `CREATE TABLE ${pg.escapeIdentifier(tables.pooled)} (tag varchar, time timestamp, data jsonb)`,
    );
    const c = collector(
      `table: ${tables.pooled}, async: on, min_pool_size: 2, max_pool_size: 3, retry_limit: 2`,
    );
    await c.start();
    await c.push({ tag: 'pool', body: { n: 1 } });
    await c.flush();
    // jsonb cannot hold \u0000: PostgreSQL refuses the batch every time.
    await c.push({ tag: 'pool', body: { bad: 'nul\u0000byte' } });
    await c.flush();
    const rows = await db.query(`SELECT tag, data FROM ${pg.escapeIdentifier(tables.pooled)}`);
    expect(rows.rows.map((r: { data: { n?: number } }) => r.data.n)).toEqual([1]);
    const m = await c.metrics.metrics();
    expect(m).toMatch(/collector_output_retries_total\{output="pgsql.0"\} 2/);
    expect(m).toMatch(/collector_output_dropped_records_total\{output="pgsql.0"\} 1/);
    await c.close();
  });

  it('an unreachable server fails the batch with a coded, retried error; cockroachdb is refused', async () => {
    const c = createCollector(
      parseConfig(`
service: { flush: 0.02, scheduler.base: 0.02, scheduler.cap: 0.1 }
pipeline:
  outputs:
    - { name: pgsql, match: '*', host: 127.0.0.1, port: 1, user: postgres, database: test, retry_limit: 1 }
`),
      { logger: quiet },
    );
    await c.start();
    await c.push({ tag: 'x', body: {} });
    await c.flush();
    expect(await c.metrics.metrics()).toMatch(/collector_output_dropped_records_total\{output="pgsql.0"\} 1/);
    await c.close();
    expect(() =>
      parseConfig("pipeline:\n  outputs:\n    - { name: pgsql, match: '*', cockroachdb: on }\n"),
    ).toThrow(/cockroachdb is not supported/);
  });
});

describe('the pgsql example in the README', () => {
  it('runs as written: curl into http, the row lands in app_logs', async () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const yaml = /```yaml\n(pipeline:\n {2}inputs: \[\{ name: http[^`]*name: pgsql[^`]*)```/.exec(
      readme,
    )![1]!;
    const table = /table: (\w+)/.exec(yaml)![1]!;
    const db = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await db.connect();
    await db.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(table)}`);
    const c = createCollector(
      parseConfig(`service: { flush: 0.05 }\n${yaml.replace('port: 9880', 'port: 0')}`),
      {
        logger: quiet,
      },
    );
    try {
      await c.start();
      await run('curl', [
        '-s',
        '-H',
        'content-type: application/json',
        '-d',
        '{"level":"info","msg":"stored"}',
        `http://127.0.0.1:${c.inputs()[0]!.address!.port}/app.web`,
      ]);
      await c.flush();
      const rows = await db.query(`SELECT tag, data->>'msg' AS msg FROM ${pg.escapeIdentifier(table)}`);
      expect(rows.rows).toEqual([{ tag: 'app.web', msg: 'stored' }]);
    } finally {
      await c.close();
      await db.query(`DROP TABLE IF EXISTS ${pg.escapeIdentifier(table)}`);
      await db.end();
    }
  });
});
