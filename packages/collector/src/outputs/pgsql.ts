import pg from 'pg';
import { z } from 'zod';
import { bool, int, port } from '../config/values.js';
import { CollectorError } from '../errors.js';
import type { OutputPlugin } from '../plugin.js';
import type { CollectorRecord } from '../types.js';
import { formatTime, stringify } from './format.js';

const schema = z
  .strictObject({
    host: z.string().default('127.0.0.1'),
    port: port.default(5432),
    user: z.string().optional(),
    password: z.string().optional(),
    database: z.string().default('fluentbit'),
    table: z.string().min(1).default('fluentbit'),
    connection_options: z.string().optional(),
    timestamp_key: z.string().min(1).default('date'),
    async: bool.default(false),
    min_pool_size: int(1, 1000).default(1),
    max_pool_size: int(1, 1000).default(4),
    cockroachdb: bool.default(false),
  })
  .refine((o) => !o.cockroachdb, {
    message: 'cockroachdb is not supported (PostgreSQL only)',
    path: ['cockroachdb'],
  });

type Options = z.output<typeof schema>;

/** The table fluent-bit's pgsql output creates. */
function createTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${pg.escapeIdentifier(table)} (tag varchar, time timestamp, data jsonb)`;
}

/**
 * `pgsql`: inserts each batch into `table` as rows `(tag, time, data jsonb)`, creating the table
 * when missing, as fluent-bit does. `data` is the record with its time under `timestamp_key`
 * (seconds, as a float); `time` is that time as a `timestamp`. A batch goes in one transaction
 * (one INSERT per tag), so a failed batch is retried whole and never half-written. With `async`
 * a pool of `min_pool_size`..`max_pool_size` connections is kept; without it, one connection.
 * Sprout waits for each INSERT's result in both modes (fluent-bit's async mode does not).
 */
export const pgsqlOutput: OutputPlugin<typeof schema> = {
  name: 'pgsql',
  schema,
  create(o: Options, ctx) {
    const size = o.async ? Math.max(o.max_pool_size, 1) : 1;
    const pool = new pg.Pool({
      host: o.host,
      port: o.port,
      database: o.database,
      ...(o.user !== undefined ? { user: o.user } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.connection_options !== undefined ? { options: o.connection_options } : {}),
      max: size,
      min: o.async ? Math.min(o.min_pool_size, size) : 1,
      connectionTimeoutMillis: 10_000,
      application_name: `sprout-collector ${ctx.name}`,
    });
    // An idle connection dropped by the server is replaced on the next batch.
    pool.on('error', (err) =>
      ctx.log.warn({ err: err.message, output: ctx.name }, 'pgsql: idle connection lost'),
    );
    const table = pg.escapeIdentifier(o.table);
    const insert = `INSERT INTO ${table} (tag, time, data) SELECT $1, to_timestamp(CAST(value->>$2 AS FLOAT)), value FROM jsonb_array_elements($3::jsonb)`;
    let tableReady = false;
    return {
      async write(records) {
        const groups = new Map<string, CollectorRecord[]>();
        for (const r of records) {
          let g = groups.get(r.tag);
          if (!g) groups.set(r.tag, (g = []));
          g.push(r);
        }
        let client: pg.PoolClient;
        try {
          client = await pool.connect();
        } catch (err) {
          throw new CollectorError(
            'SPROUT_ERR_COLLECTOR_OUTPUT_FAILED',
            `pgsql: cannot connect to ${o.host}:${o.port}/${o.database}: ${(err as Error).message}`,
            undefined,
            { cause: err },
          );
        }
        let broken = false;
        try {
          if (!tableReady) {
            await client.query(createTableSql(o.table));
            tableReady = true;
          }
          await client.query('BEGIN');
          for (const [tag, group] of groups) {
            const json = stringify(
              group.map((r) => ({ [o.timestamp_key]: formatTime(r.time, 'double'), ...r.body })),
            );
            await client.query(insert, [tag, o.timestamp_key, json]);
          }
          await client.query('COMMIT');
        } catch (err) {
          broken = true;
          // The table was dropped while running: create it again on the retry.
          if ((err as { code?: string }).code === '42P01') tableReady = false;
          await client.query('ROLLBACK').catch(() => undefined);
          throw new CollectorError(
            'SPROUT_ERR_COLLECTOR_OUTPUT_FAILED',
            `pgsql: insert into ${o.table} failed: ${(err as Error).message}`,
            undefined,
            { cause: err },
          );
        } finally {
          client.release(broken);
        }
      },
      async close() {
        await pool.end();
      },
    };
  },
};
