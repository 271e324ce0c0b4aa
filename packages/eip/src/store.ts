import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Allocation, AllocationRequest, PendingCondition, ServiceState } from './allocator.js';
import { EipError } from './errors.js';
import type { IpFamily } from './ip.js';

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
  status TEXT NOT NULL, reason TEXT, message TEXT, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS addresses (
  key TEXT NOT NULL, family INTEGER NOT NULL, ip TEXT NOT NULL, pool TEXT NOT NULL,
  sharing_key TEXT, ports TEXT NOT NULL, PRIMARY KEY (key, family));
CREATE INDEX IF NOT EXISTS addresses_ip ON addresses (ip);
-- The last line of defence: an address is never held twice unless both holders share a key.
CREATE TRIGGER IF NOT EXISTS addresses_exclusive BEFORE INSERT ON addresses
WHEN EXISTS (SELECT 1 FROM addresses WHERE ip = NEW.ip AND key != NEW.key
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
}
interface AddressRow {
  key: string;
  family: number;
  ip: string;
  pool: string;
  sharing_key: string | null;
  ports: string;
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
        `INSERT INTO services (key, namespace, name, request, status, reason, message, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET request = excluded.request, status = excluded.status, reason = excluded.reason,
         message = excluded.message, updated_at = excluded.updated_at`,
      ),
      deleteService: db.prepare('DELETE FROM services WHERE key = ?'),
      deleteAddresses: db.prepare('DELETE FROM addresses WHERE key = ?'),
      insertAddress: db.prepare(
        'INSERT INTO addresses (key, family, ip, pool, sharing_key, ports) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      insertEvent: db.prepare('INSERT INTO events (at, type, pool, message) VALUES (?, ?, ?, ?)'),
      events: db.prepare('SELECT id, at, type, pool, message FROM events ORDER BY id DESC LIMIT ?'),
    };
  }

  /** Changes when another connection commits (SQLite's `data_version`). */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
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
    const byKey = new Map<string, Allocation[]>();
    for (const a of this.db
      .prepare('SELECT key, family, ip, pool, sharing_key, ports FROM addresses ORDER BY key, family')
      .all() as AddressRow[]) {
      const list = byKey.get(a.key) ?? [];
      list.push({
        ip: a.ip,
        family: a.family as IpFamily,
        pool: a.pool,
        ...(a.sharing_key ? { sharingKey: a.sharing_key } : {}),
        ports: JSON.parse(a.ports) as Allocation['ports'],
      });
      byKey.set(a.key, list);
    }
    const services: ServiceState[] = (
      this.db
        .prepare('SELECT key, namespace, name, request, status, reason, message FROM services')
        .all() as ServiceRow[]
    ).map((r) => ({
      key: r.key,
      namespace: r.namespace,
      name: r.name,
      request: JSON.parse(r.request) as AllocationRequest,
      status: r.status,
      addresses: byKey.get(r.key) ?? [],
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

  saveService(s: ServiceState): void {
    this.stmts.upsertService.run(
      s.key,
      s.namespace,
      s.name,
      JSON.stringify(s.request),
      s.status,
      s.condition?.reason ?? null,
      s.condition?.message ?? null,
      Date.now(),
    );
    this.stmts.deleteAddresses.run(s.key);
    for (const a of s.addresses) {
      this.stmts.insertAddress.run(
        s.key,
        a.family,
        a.ip,
        a.pool,
        a.sharingKey ?? null,
        JSON.stringify(a.ports),
      );
    }
  }

  deleteService(key: string): void {
    this.stmts.deleteAddresses.run(key);
    this.stmts.deleteService.run(key);
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
