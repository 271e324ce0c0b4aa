import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { etagMismatch, type RawItem, type StorageEngine, type WriteOp } from '../engine.js';

export interface SqliteEngineOptions {
  /** Database file (created with its folder), or `:memory:`. */
  file: string;
  /** Table name; default `state`. */
  table?: string;
  /** How long a writer waits for another process's lock, in ms; default 5000. */
  busyTimeoutMs?: number;
  /** `FULL` (default: every commit reaches the disk), `NORMAL` or `OFF`. */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
  /** Turn off write-ahead logging (not recommended: readers then block writers). */
  disableWal?: boolean;
}

interface Pending {
  ops: WriteOp[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The embedded engine: one SQLite file in WAL mode. Writes arriving in the same tick are committed
 * together in one `BEGIN IMMEDIATE` transaction (group commit), each inside its own savepoint, so one
 * failing write does not undo the others and a promise settles only after its commit is durable.
 * Several processes may open the same file: the write lock and busy timeout serialise them.
 */
export class SqliteEngine implements StorageEngine {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<
    [string, number],
    { value: string; etag: number; expires_at: number | null }
  >;
  readonly #etagOf: Database.Statement<[string, number], { etag: number }>;
  readonly #upsert: Database.Statement<[string, string, number | null]>;
  readonly #update: Database.Statement<[string, number | null, string, number, number]>;
  readonly #del: Database.Statement<[string]>;
  readonly #delIf: Database.Statement<[string, number, number]>;
  readonly #scan: Database.Statement<
    [{ prefix: string; now: number }],
    { key: string; value: string; etag: number }
  >;
  readonly #purge: Database.Statement<[number]>;
  readonly #batch: (items: Pending[]) => unknown[];
  readonly #read: (keys: string[]) => (RawItem | undefined)[];
  readonly #readSnapshot: (keys: string[]) => (RawItem | undefined)[];
  #queue: Pending[] = [];
  #scheduled = false;

  constructor(options: SqliteEngineOptions) {
    if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
    const table = `"${options.table ?? 'state'}"`;
    this.#db = new Database(options.file);
    this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (!options.disableWal) this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, etag INTEGER NOT NULL, expires_at INTEGER) WITHOUT ROWID;` +
        `CREATE INDEX IF NOT EXISTS "${options.table ?? 'state'}_expires" ON ${table} (expires_at) WHERE expires_at IS NOT NULL;`,
    );
    const live = '(expires_at IS NULL OR expires_at > ?)';
    this.#get = this.#db.prepare(`SELECT value, etag, expires_at FROM ${table} WHERE key = ? AND ${live}`);
    this.#etagOf = this.#db.prepare(`SELECT etag FROM ${table} WHERE key = ? AND ${live}`);
    this.#upsert = this.#db.prepare(
      `INSERT INTO ${table} (key, value, etag, expires_at) VALUES (?, ?, 1, ?) ` +
        `ON CONFLICT(key) DO UPDATE SET value = excluded.value, etag = etag + 1, expires_at = excluded.expires_at`,
    );
    this.#update = this.#db.prepare(
      `UPDATE ${table} SET value = ?, etag = etag + 1, expires_at = ? WHERE key = ? AND etag = ? AND ${live}`,
    );
    this.#del = this.#db.prepare(`DELETE FROM ${table} WHERE key = ?`);
    this.#delIf = this.#db.prepare(`DELETE FROM ${table} WHERE key = ? AND etag = ? AND ${live}`);
    this.#scan = this.#db.prepare(
      `SELECT key, value, etag FROM ${table} WHERE substr(key, 1, length(@prefix)) = @prefix AND (expires_at IS NULL OR expires_at > @now)`,
    );
    this.#purge = this.#db.prepare(`DELETE FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= ?`);
    this.#read = (keys: string[]) => {
      const now = Date.now();
      return keys.map((k) => {
        const row = this.#get.get(k, now);
        if (!row) return undefined;
        const raw: RawItem = { value: row.value, etag: String(row.etag) };
        if (row.expires_at !== null) raw.expiresAt = row.expires_at;
        return raw;
      });
    };
    // One read transaction: a bulk read never sees half of another process's write.
    this.#readSnapshot = this.#db.transaction(this.#read);
    const one = this.#db.transaction((ops: WriteOp[]) => this.#apply(ops));
    this.#batch = this.#db.transaction((items: Pending[]) =>
      items.map((p) => {
        try {
          one(p.ops);
          return undefined;
        } catch (err) {
          return err;
        }
      }),
    ).immediate;
  }

  async getMany(keys: string[]): Promise<(RawItem | undefined)[]> {
    return keys.length === 1 ? this.#read(keys) : this.#readSnapshot(keys);
  }

  write(ops: WriteOp[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  async scan(prefix: string): Promise<(RawItem & { key: string })[]> {
    return this.#scan
      .all({ prefix, now: Date.now() })
      .map((r) => ({ key: r.key, value: r.value, etag: String(r.etag) }));
  }

  async purgeExpired(): Promise<number> {
    return this.#purge.run(Date.now()).changes;
  }

  isUnavailable(err: unknown): boolean {
    const code = (err as { code?: unknown })?.code;
    return code === 'SQLITE_BUSY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY';
  }

  async close(): Promise<void> {
    if (this.#queue.length) this.#flush();
    this.#db.close();
  }

  #flush(): void {
    this.#scheduled = false;
    const items = this.#queue;
    this.#queue = [];
    if (!items.length) return;
    let results: unknown[];
    try {
      results = this.#batch(items);
    } catch (err) {
      for (const p of items) p.reject(err);
      return;
    }
    items.forEach((p, i) => (results[i] === undefined ? p.resolve() : p.reject(results[i])));
  }

  /** Runs inside a savepoint: a thrown mismatch rolls back this write only. */
  #apply(ops: WriteOp[]): void {
    const now = Date.now();
    for (const op of ops) {
      if (op.op === 'set') {
        const expires = op.ttlMs === undefined ? null : now + op.ttlMs;
        if (op.etag !== undefined) {
          if (this.#update.run(op.value, expires, op.key, Number(op.etag), now).changes === 0)
            throw etagMismatch(op.key);
        } else {
          if (op.insertOnly && this.#etagOf.get(op.key, now)) throw etagMismatch(op.key);
          this.#upsert.run(op.key, op.value, expires);
        }
      } else if (op.etag !== undefined) {
        if (this.#delIf.run(op.key, Number(op.etag), now).changes === 0) throw etagMismatch(op.key);
      } else {
        this.#del.run(op.key);
      }
    }
  }
}
