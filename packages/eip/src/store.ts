import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ServiceState } from './allocation.js';
import { EipError } from './errors.js';
import { decodeState, encodeState, type StoredRow } from './store/journal-codec.js';
import { migrate } from './store/schema.js';

export interface StoredEvent {
  id: number;
  at: string;
  type: 'exhausted' | 'pending' | 'drained';
  pool?: string;
  message: string;
}

/** One entry of the allocation journal: a service's new state, or `null` when it was released. */
export interface JournalEntry {
  seq: number;
  key: string;
  state: ServiceState | null;
}

/**
 * How far a returned allocation is durable:
 * - `process` (default): WAL with `synchronous=NORMAL`. A commit has been written to the WAL file
 *   (the OS page cache) when it returns, so it survives the process crashing or being killed
 *   (`kill -9`) at any point; the WAL is fsynced only at checkpoints, so a power loss or kernel
 *   crash can lose the last commits before one (the file stays consistent: it rolls back to an
 *   earlier commit, never to a half-written one).
 * - `power`: WAL with `synchronous=FULL`. The WAL is fsynced at every commit, so a returned
 *   allocation survives power loss too; one fsync per transaction, which `allocateMany` and
 *   `allocateAsync` (group commit) share across a burst.
 */
export type Durability = 'process' | 'power';

// Allocations are an append-only journal: a commit appends rows at the end of one B-tree, so it
// touches a page or two however scattered the services are; readers in other processes catch up
// by reading the rows after the last one they saw. Configuration (pools, namespaces, BGP) lives in
// plain tables; changing it bumps `config_gen`, which makes other processes reload everything.
// Tables and migrations: store/schema.ts; the journal row format: store/journal-codec.ts.

/** Rows per multi-row INSERT. */
const CHUNK = 50;

/**
 * The embedded store: one SQLite file in WAL mode (see `Durability`). Writers take the write lock
 * up front (`BEGIN IMMEDIATE`) and catch up with other processes' commits before deciding, so
 * allocators in separate processes are serialised. Journal rows appended in a transaction are
 * buffered and written at its end with multi-row INSERTs.
 */
export class EipStore {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly inserts = new Map<number, Database.Statement>();
  /** Journal rows staged in this transaction, flat (six values a row), ready to bind. */
  private staged: (string | number | null)[] = [];
  private readonly tx: { immediate(fn: () => unknown): unknown; deferred(fn: () => unknown): unknown };

  constructor(dataDir: string, options: { durability?: Durability } = {}) {
    const durability = options.durability ?? 'process';
    if (durability !== 'process' && durability !== 'power') {
      throw new EipError(
        'SPROUT_ERR_EIP_STORE',
        `durability must be 'process' or 'power', not ${JSON.stringify(durability)}`,
        'durability',
      );
    }
    mkdirSync(dataDir, { recursive: true });
    try {
      this.db = new Database(join(dataDir, 'eip.db'), { timeout: 10_000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
      // Checkpoint (the one fsync WAL+NORMAL does) every ~40 MB of journal instead of every 4 MB.
      this.db.pragma('wal_autocheckpoint = 10000');
      this.db.transaction(() => migrate(this.db)).immediate();
    } catch (err) {
      throw new EipError(
        'SPROUT_ERR_EIP_STORE',
        `cannot open the store in ${dataDir}: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
    const db = this.db;
    // One transaction wrapper for every write (better-sqlite3 builds four closures per `transaction()`).
    this.tx = db.transaction((fn: () => unknown) => fn()) as unknown as EipStore['tx'];
    this.stmts = {
      upsertPool: db.prepare(
        'INSERT INTO pools (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc',
      ),
      deletePool: db.prepare('DELETE FROM pools WHERE name = ?'),
      upsertNs: db.prepare(
        'INSERT INTO namespaces (name, labels) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET labels = excluded.labels',
      ),
      upsertBgp: db.prepare(
        'INSERT INTO bgp (kind, name, doc) VALUES (?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET doc = excluded.doc',
      ),
      since: db.prepare('SELECT seq, key, addrs, ports, extra, cond FROM journal WHERE seq > ? ORDER BY seq'),
      lastSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM journal').pluck(),
      journalSize: db.prepare('SELECT count(*) FROM journal').pluck(),
      configGen: db.prepare("SELECT value FROM meta WHERE name = 'config_gen'").pluck(),
      bumpGen: db.prepare("UPDATE meta SET value = value + 1 WHERE name = 'config_gen'"),
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      insertEvent: db.prepare('INSERT INTO events (at, type, pool, message) VALUES (?, ?, ?, ?)'),
      events: db.prepare('SELECT id, at, type, pool, message FROM events ORDER BY id DESC LIMIT ?'),
    };
  }

  /** SQLite's `synchronous` setting of this connection: 1 NORMAL, 2 FULL. */
  synchronous(): number {
    return this.db.pragma('synchronous', { simple: true }) as number;
  }

  /** Changes when another connection commits (SQLite's `data_version`). */
  dataVersion(): number {
    return this.stmts.dataVersion.get() as number;
  }

  configGen(): number {
    return this.stmts.configGen.get() as number;
  }

  /** Marks a configuration change so other processes reload everything. */
  bumpConfigGen(): void {
    this.stmts.bumpGen.run();
  }

  /**
   * Runs `fn` holding the write lock; rolls back if it throws. Journal entries staged by `fn` are
   * written before the commit.
   */
  write<T>(fn: () => T): T {
    this.staged.length = 0;
    try {
      return this.tx.immediate(() => {
        const out = fn();
        this.flush();
        return out;
      }) as T;
    } finally {
      this.staged.length = 0;
    }
  }

  /** Runs `fn` on one consistent snapshot. */
  read<T>(fn: () => T): T {
    return this.tx.deferred(fn) as T;
  }

  loadConfig() {
    const pools = (this.db.prepare('SELECT doc FROM pools ORDER BY name').all() as { doc: string }[]).map(
      (r) => JSON.parse(r.doc) as unknown,
    );
    const namespaces = (
      this.db.prepare('SELECT name, labels FROM namespaces').all() as { name: string; labels: string }[]
    ).map((r) => ({
      name: r.name,
      labels: JSON.parse(r.labels) as Record<string, string>,
    }));
    const bgp = (
      this.db.prepare('SELECT kind, doc FROM bgp ORDER BY kind, name').all() as {
        kind: string;
        doc: string;
      }[]
    ).map((r) => ({
      kind: r.kind,
      doc: JSON.parse(r.doc) as unknown,
    }));
    return { pools, namespaces, bgp, configGen: this.configGen() };
  }

  /** Journal entries after `seq`, oldest first. */
  journalSince(seq: number): JournalEntry[] {
    return (this.stmts.since.all(seq) as StoredRow[]).map((r) => ({
      seq: r.seq,
      key: r.key,
      state: decodeState(r),
    }));
  }

  /** The newest journal entry's sequence number (0 when empty). */
  lastSeq(): number {
    return this.stmts.lastSeq.get() as number;
  }

  journalSize(): number {
    return this.stmts.journalSize.get() as number;
  }

  /**
   * Stages a service's new state (or its release, `null`) as journal entry `seq`, written when the
   * transaction ends. The caller has caught up with the journal under the write lock, so `seq` is
   * one past the newest entry.
   */
  append(seq: number, key: string, state: ServiceState | null): void {
    const row = encodeState(seq, key, state);
    this.staged.push(row[0], row[1], row[2], row[3], row[4], row[5]);
  }

  /** Writes the staged journal entries, up to CHUNK rows per statement. */
  private flush(): void {
    const values = this.staged;
    const rows = values.length / 6;
    for (let i = 0; i < rows; i += CHUNK) {
      const n = Math.min(CHUNK, rows - i);
      let stmt = this.inserts.get(n);
      if (!stmt) {
        stmt = this.db.prepare(
          `INSERT INTO journal VALUES ${Array(n).fill('(?, ?, ?, ?, ?, ?)').join(', ')}`,
        );
        this.inserts.set(n, stmt);
      }
      stmt.run(n === rows ? values : values.slice(i * 6, (i + n) * 6));
    }
    values.length = 0;
  }

  /**
   * Drops superseded journal entries and releases (keeping the newest row, so sequence numbers
   * never go back) and bumps the config generation so other processes reload.
   */
  compact(): void {
    this.flush();
    this.db.exec(`DELETE FROM journal WHERE seq < (SELECT max(seq) FROM journal) AND (
      (addrs IS NULL AND cond IS NULL) OR seq NOT IN (SELECT max(seq) FROM journal GROUP BY key))`);
    this.bumpConfigGen();
  }

  savePool(name: string, doc: unknown): void {
    this.stmts.upsertPool.run(name, JSON.stringify(doc));
  }
  deletePool(name: string): void {
    this.stmts.deletePool.run(name);
  }
  saveNamespace(name: string, labels: Record<string, string>): void {
    this.stmts.upsertNs.run(name, JSON.stringify(labels));
  }
  saveBgp(kind: string, name: string, doc: unknown): void {
    this.stmts.upsertBgp.run(kind, name, JSON.stringify(doc));
  }

  addEvent(type: StoredEvent['type'], pool: string | undefined, message: string): void {
    this.stmts.insertEvent.run(new Date().toISOString(), type, pool ?? null, message);
  }

  events(limit = 20): StoredEvent[] {
    return (this.stmts.events.all(limit) as (StoredEvent & { pool: string | null })[]).map(
      ({ pool, ...e }) => ({ ...e, ...(pool ? { pool } : {}) }),
    );
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
