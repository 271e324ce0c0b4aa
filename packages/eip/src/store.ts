import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ServiceState } from './allocator.js';
import { EipError } from './errors.js';

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

// Allocations are an append-only journal: a commit appends rows at the end of one B-tree, so it
// touches a page or two however scattered the services are; readers in other processes catch up
// by reading the rows after the last one they saw. Configuration (pools, namespaces, BGP) lives in
// plain tables; changing it bumps `config_gen`, which makes other processes reload everything.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS pools (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, labels TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bgp (kind TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, state TEXT);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('config_gen', 0);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, type TEXT NOT NULL, pool TEXT, message TEXT NOT NULL);
`;

/**
 * The embedded store: one SQLite file in WAL mode (`synchronous=NORMAL`: a commit survives a crash
 * of the process). Writers take the write lock up front (`BEGIN IMMEDIATE`) and catch up with
 * other processes' commits before deciding, so allocators in separate processes are serialised.
 */
export class EipStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    try {
      this.db = new Database(join(dataDir, 'eip.db'), { timeout: 10_000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      // Checkpoint (the one fsync WAL+NORMAL does) every ~40 MB of journal instead of every 4 MB.
      this.db.pragma('wal_autocheckpoint = 10000');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw new EipError(
        'SPROUT_ERR_EIP_STORE',
        `cannot open the store in ${dataDir}: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
    const db = this.db;
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
      append: db.prepare('INSERT INTO journal (key, state) VALUES (?, ?)'),
      since: db.prepare('SELECT seq, key, state FROM journal WHERE seq > ? ORDER BY seq'),
      journalSize: db.prepare('SELECT count(*) FROM journal').pluck(),
      configGen: db.prepare("SELECT value FROM meta WHERE name = 'config_gen'").pluck(),
      bumpGen: db.prepare("UPDATE meta SET value = value + 1 WHERE name = 'config_gen'"),
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      insertEvent: db.prepare('INSERT INTO events (at, type, pool, message) VALUES (?, ?, ?, ?)'),
      events: db.prepare('SELECT id, at, type, pool, message FROM events ORDER BY id DESC LIMIT ?'),
    };
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

  /** Runs `fn` holding the write lock; rolls back if it throws. */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Runs `fn` on one consistent snapshot. */
  read<T>(fn: () => T): T {
    return this.db.transaction(fn).deferred();
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
    return (this.stmts.since.all(seq) as { seq: number; key: string; state: string | null }[]).map((r) => ({
      seq: r.seq,
      key: r.key,
      state: r.state === null ? null : (JSON.parse(r.state) as ServiceState),
    }));
  }

  journalSize(): number {
    return this.stmts.journalSize.get() as number;
  }

  /** Appends a service's new state (or its release, `null`); returns the entry's sequence number. */
  append(key: string, state: ServiceState | null): number {
    return Number(this.stmts.append.run(key, state === null ? null : JSON.stringify(state)).lastInsertRowid);
  }

  /**
   * Drops superseded journal entries and releases (keeping the newest row, so sequence numbers
   * never go back) and bumps the config generation so other processes reload.
   */
  compact(): void {
    this.db.exec(`DELETE FROM journal WHERE seq < (SELECT max(seq) FROM journal) AND (
      state IS NULL OR seq NOT IN (SELECT max(seq) FROM journal GROUP BY key))`);
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
