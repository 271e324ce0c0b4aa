import pg from 'pg';
import { pgConnectionConfig } from './pg-conninfo.js';
import { etagMismatch, type RawItem, type StorageEngine, type WriteOp } from '../engine.js';
import type { QueryFilter } from '../types.js';
import { StateError } from '../errors.js';

export interface PostgresEngineOptions {
  connectionString: string;
  /** Table name, optionally `schema.table`; default `state`. */
  table?: string;
  /** Statement timeout in ms; default 20000. */
  timeoutMs?: number;
  /** Pool size; default 10. */
  maxConns?: number;
}

const LIVE = '(expires_at IS NULL OR expires_at > now())';
const EXPIRES_MS = `(extract(epoch from expires_at) * 1000)::bigint::text AS "expiresAt"`;
const EXPIRES = `CASE WHEN $3::bigint IS NULL THEN NULL ELSE now() + $3::bigint * interval '1 millisecond' END`;

type Row = { value: string; etag: string; expiresAt: string | null };
function toRaw(r: Row): RawItem {
  const raw: RawItem = { value: r.value, etag: r.etag };
  if (r.expiresAt !== null) raw.expiresAt = Number(r.expiresAt);
  return raw;
}

function quoteTable(name: string): string {
  return name
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');
}

/** The `state.postgresql` engine: one table, values as jsonb, etags as a per-key version. */
export class PostgresEngine implements StorageEngine {
  readonly #pool: pg.Pool;
  readonly #table: string;
  readonly #sql: Record<
    'get' | 'getMany' | 'upsert' | 'insert' | 'update' | 'del' | 'delIf' | 'scan' | 'purge',
    string
  >;
  #init: Promise<void> | undefined;
  readonly #guarded = new WeakSet<pg.PoolClient>();

  constructor(options: PostgresEngineOptions) {
    this.#pool = new pg.Pool({
      connectionTimeoutMillis: 5000,
      ...pgConnectionConfig(options.connectionString),
      max: options.maxConns ?? 10,
      statement_timeout: options.timeoutMs ?? 20_000,
    });
    this.#pool.on('error', () => undefined); // an idle client lost: the next query reports it
    const t = quoteTable(options.table ?? 'state');
    this.#table = t;
    this.#sql = {
      get: `SELECT value::text AS value, etag::text AS etag, ${EXPIRES_MS} FROM ${t} WHERE key = $1 AND ${LIVE}`,
      getMany: `SELECT key, value::text AS value, etag::text AS etag, ${EXPIRES_MS} FROM ${t} WHERE key = ANY($1) AND ${LIVE}`,
      upsert:
        `INSERT INTO ${t} AS s (key, value, etag, expires_at) VALUES ($1, $2::jsonb, 1, ${EXPIRES}) ` +
        `ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, etag = s.etag + 1, expires_at = EXCLUDED.expires_at`,
      insert:
        `INSERT INTO ${t} AS s (key, value, etag, expires_at) VALUES ($1, $2::jsonb, 1, ${EXPIRES}) ` +
        `ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, etag = s.etag + 1, expires_at = EXCLUDED.expires_at ` +
        `WHERE s.expires_at IS NOT NULL AND s.expires_at <= now()`,
      update: `UPDATE ${t} SET value = $2::jsonb, etag = etag + 1, expires_at = ${EXPIRES} WHERE key = $1 AND etag = $4 AND ${LIVE}`,
      del: `DELETE FROM ${t} WHERE key = $1`,
      delIf: `DELETE FROM ${t} WHERE key = $1 AND etag = $2 AND ${LIVE}`,
      scan: `SELECT key, value::text AS value, etag::text AS etag FROM ${t} WHERE starts_with(key, $1) AND ${LIVE}`,
      purge: `DELETE FROM ${t} WHERE expires_at IS NOT NULL AND expires_at <= now()`,
    };
  }

  /** Creates the table if needed (several processes may race; the loser's error is ignored). */
  init(): Promise<void> {
    this.#init ??= (async () => {
      const ddl =
        `CREATE TABLE IF NOT EXISTS ${this.#table} (key text PRIMARY KEY, value jsonb NOT NULL, ` +
        `etag bigint NOT NULL, expires_at timestamptz)`;
      try {
        await this.#pool.query(ddl);
      } catch (err) {
        if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P07')
          throw err;
      }
    })();
    this.#init.catch(() => (this.#init = undefined));
    return this.#init;
  }

  async getMany(keys: string[]): Promise<(RawItem | undefined)[]> {
    await this.init();
    if (keys.length === 1) {
      const { rows } = await this.#pool.query<Row>({
        name: `${this.#table}:get`,
        text: this.#sql.get,
        values: keys,
      });
      return [rows[0] && toRaw(rows[0])];
    }
    const { rows } = await this.#pool.query<Row & { key: string }>(this.#sql.getMany, [keys]);
    const byKey = new Map(rows.map((r) => [r.key, toRaw(r)]));
    return keys.map((k) => byKey.get(k));
  }

  async write(ops: WriteOp[]): Promise<void> {
    await this.init();
    if (ops.length === 1) {
      await this.#apply(this.#pool, ops[0]!);
      return;
    }
    const client = await this.#pool.connect();
    // A connection lost while checked out emits 'error' on the client; the query in flight
    // reports it, so the event itself is only kept from crashing the process.
    let lost: Error | undefined;
    const onError = (err: Error) => (lost = err);
    if (!this.#guarded.has(client)) {
      client.on('error', () => undefined); // late errors of a connection already given back
      this.#guarded.add(client);
    }
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      for (const op of ops) await this.#apply(client, op);
      await client.query('COMMIT');
    } catch (err) {
      if (!lost && !this.isUnavailable(err)) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      // A broken connection goes back destroyed, not into the pool.
      client.release(lost ?? undefined);
    }
  }

  async scan(prefix: string, filter?: QueryFilter): Promise<(RawItem & { key: string })[]> {
    await this.init();
    const values: unknown[] = [prefix];
    const where = filter ? pushDown(filter, values) : undefined;
    const text = where ? `${this.#sql.scan} AND ${where}` : this.#sql.scan;
    return (await this.#pool.query<RawItem & { key: string }>(text, values)).rows;
  }

  async purgeExpired(): Promise<number> {
    await this.init();
    return (await this.#pool.query(this.#sql.purge)).rowCount ?? 0;
  }

  isUnavailable(err: unknown): boolean {
    const code = (err as { code?: unknown })?.code;
    const msg = err instanceof Error ? err.message : '';
    return (
      code === 'ECONNREFUSED' ||
      code === 'ECONNRESET' ||
      code === '57P01' ||
      code === '57P03' ||
      /timeout exceeded when trying to connect|Connection terminated|ECONNREFUSED/i.test(msg)
    );
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #apply(db: pg.Pool | pg.PoolClient, op: WriteOp): Promise<void> {
    try {
      await this.#applyOne(db, op);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // 22P05: \u0000 or an untranslatable character; jsonb cannot hold it.
      if (code === '22P05' || code === '22P02') {
        throw new StateError(
          'SPROUT_ERR_STATE_VALUE_INVALID',
          `value of key "${op.key}" cannot be stored as jsonb: ${(err as Error).message}`,
          {
            field: op.key,
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  async #applyOne(db: pg.Pool | pg.PoolClient, op: WriteOp): Promise<void> {
    const t = this.#table;
    if (op.op === 'set') {
      const ttl = op.ttlMs ?? null;
      let res;
      if (op.etag !== undefined) {
        res = await db.query({
          name: `${t}:update`,
          text: this.#sql.update,
          values: [op.key, op.value, ttl, op.etag],
        });
      } else if (op.insertOnly) {
        res = await db.query({
          name: `${t}:insert`,
          text: this.#sql.insert,
          values: [op.key, op.value, ttl],
        });
      } else {
        await db.query({ name: `${t}:upsert`, text: this.#sql.upsert, values: [op.key, op.value, ttl] });
        return;
      }
      if (res.rowCount === 0) throw etagMismatch(op.key);
    } else if (op.etag !== undefined) {
      const res = await db.query({ name: `${t}:delIf`, text: this.#sql.delIf, values: [op.key, op.etag] });
      if (res.rowCount === 0) throw etagMismatch(op.key);
    } else {
      await db.query({ name: `${t}:del`, text: this.#sql.del, values: [op.key] });
    }
  }
}

/**
 * Translates the part of a query filter that jsonb can decide exactly (EQ and IN, under AND and
 * OR) into SQL; what it cannot translate it leaves out (undefined: no constraint), so the rows
 * returned are always a superset of the matches and the exact filter runs afterwards.
 */
function pushDown(filter: QueryFilter, values: unknown[]): string | undefined {
  const [op, arg] = Object.entries(filter)[0] as [string, unknown];
  if (op === 'AND') {
    const parts = (arg as QueryFilter[]).map((f) => pushDown(f, values)).filter((p) => p !== undefined);
    return parts.length ? `(${parts.join(' AND ')})` : undefined;
  }
  if (op === 'OR') {
    // Translate into a scratch list: if one branch cannot be decided, none of its parameters may stay.
    const scratch = [...values];
    const parts = (arg as QueryFilter[]).map((f) => pushDown(f, scratch));
    if (parts.some((p) => p === undefined)) return undefined;
    values.push(...scratch.slice(values.length));
    return `(${parts.join(' OR ')})`;
  }
  if (op !== 'EQ' && op !== 'IN') return undefined;
  const [path, want] = Object.entries(arg as Record<string, unknown>)[0]!;
  const wants = op === 'EQ' ? [want] : (want as unknown[]);
  if (wants.length === 0) return 'false';
  values.push(path.split('.'));
  const p = `$${values.length}`;
  const alternatives = wants.map((w) => {
    values.push(JSON.stringify(w));
    return `value #> ${p}::text[] = $${values.length}::jsonb`;
  });
  return `(${alternatives.join(' OR ')})`;
}
