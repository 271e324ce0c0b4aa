import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Allocation, AllocationRequest, PendingCondition, ServiceState } from './allocator.js';
import { EipError } from './errors.js';

export interface StoredEvent {
  id: number;
  at: string;
  type: 'exhausted' | 'pending' | 'drained';
  pool?: string;
  message: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pools (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, labels TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bgp (kind TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS services (
  key TEXT PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL, request TEXT NOT NULL,
  status TEXT NOT NULL, reason TEXT, message TEXT, addresses TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
-- Who holds which address; one row per (address, service). Kept small so a commit touches few pages.
CREATE TABLE IF NOT EXISTS held (ip TEXT NOT NULL, key TEXT NOT NULL, sharing_key TEXT, PRIMARY KEY (ip, key)) WITHOUT ROWID;
-- The last line of defence: an address is never held twice unless both holders share a key.
CREATE TRIGGER IF NOT EXISTS held_exclusive BEFORE INSERT ON held
WHEN EXISTS (SELECT 1 FROM held WHERE ip = NEW.ip AND key != NEW.key
  AND (NEW.sharing_key IS NULL OR sharing_key IS NULL OR sharing_key != NEW.sharing_key))
BEGIN SELECT RAISE(ABORT, 'address already held'); END;
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, type TEXT NOT NULL, pool TEXT, message TEXT NOT NULL);
`;

interface ServiceRow {
  key: string;
  namespace: string;
  name: string;
  request: string;
  status: 'allocated' | 'pending';
  reason: string | null;
  message: string | null;
  addresses: string;
}

/**
 * The embedded store: one SQLite file in WAL mode. Writers take the write lock up front
 * (`BEGIN IMMEDIATE`), so allocators in separate processes are serialised; a trigger refuses a
 * second holder of an address as a last line of defence.
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
      upsertService: db.prepare(
        `INSERT OR REPLACE INTO services (key, namespace, name, request, status, reason, message, addresses, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteService: db.prepare('DELETE FROM services WHERE key = ?'),
      deleteHeld: db.prepare('DELETE FROM held WHERE ip = ? AND key = ?'),
      insertHeld: db.prepare('INSERT INTO held (ip, key, sharing_key) VALUES (?, ?, ?)'),
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      insertEvent: db.prepare('INSERT INTO events (at, type, pool, message) VALUES (?, ?, ?, ?)'),
      events: db.prepare('SELECT id, at, type, pool, message FROM events ORDER BY id DESC LIMIT ?'),
    };
  }

  /** Changes when another connection commits (SQLite's `data_version`). */
  dataVersion(): number {
    return this.stmts.dataVersion.get() as number;
  }

  /** Runs `fn` holding the write lock; rolls back if it throws. */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Runs `fn` on one consistent snapshot. */
  read<T>(fn: () => T): T {
    return this.db.transaction(fn).deferred();
  }

  loadAll() {
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
    const services: ServiceState[] = (
      this.db
        .prepare('SELECT key, namespace, name, request, status, reason, message, addresses FROM services')
        .all() as ServiceRow[]
    ).map((r) => ({
      key: r.key,
      namespace: r.namespace,
      name: r.name,
      request: JSON.parse(r.request) as AllocationRequest,
      status: r.status,
      addresses: JSON.parse(r.addresses) as Allocation[],
      ...(r.reason ? { condition: { reason: r.reason, message: r.message ?? '' } as PendingCondition } : {}),
    }));
    return { pools, namespaces, bgp, services };
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

  /** Stores a service's new state; `previous` is what it held before (its rows are replaced). */
  saveService(s: ServiceState, previous?: ServiceState): void {
    const c = s.condition;
    this.stmts.upsertService.run(
      s.key,
      s.namespace,
      s.name,
      JSON.stringify(s.request),
      s.status,
      c?.reason ?? null,
      c?.message ?? null,
      JSON.stringify(s.addresses),
      Date.now(),
    );
    for (const a of previous?.addresses ?? []) this.stmts.deleteHeld.run(a.ip, s.key);
    for (const a of s.addresses) this.stmts.insertHeld.run(a.ip, s.key, a.sharingKey ?? null);
  }

  deleteService(s: ServiceState): void {
    for (const a of s.addresses) this.stmts.deleteHeld.run(a.ip, s.key);
    this.stmts.deleteService.run(s.key);
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
