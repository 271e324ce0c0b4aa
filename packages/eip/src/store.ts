import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { Allocation, AllocationRequest, PendingReason, Protocol, ServiceState } from './allocator.js';
import { EipError } from './errors.js';
import { formatIp, parseIp } from './ip.js';

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
//
// A journal row is a few short columns, not a JSON document (schema version 2):
//   key    namespace/name
//   addrs  held addresses as `ip pool` pairs joined by `,`; NULL when none
//   ports  the request's ports as `port/PROTO` joined by `,` ('' for an empty list, NULL when absent)
//   extra  the request's other fields (pool, ips, sharingKey, ipFamilyPolicy, ipFamilies) as JSON; NULL when none
//   cond   a pending service's condition, `Reason message`; NULL when allocated
// A row with neither addrs nor cond is a release. Each address's ports and sharing key are the
// request's, so they are not stored twice.
const SCHEMA_VERSION = 2;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS pools (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, labels TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bgp (kind TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS journal (
  seq INTEGER PRIMARY KEY, key TEXT NOT NULL, addrs TEXT, ports TEXT, extra TEXT, cond TEXT);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('config_gen', 0);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, type TEXT NOT NULL, pool TEXT, message TEXT NOT NULL);
`;

type Row = [
  seq: number,
  key: string,
  addrs: string | null,
  ports: string | null,
  extra: string | null,
  cond: string | null,
];
interface StoredRow {
  seq: number;
  key: string;
  addrs: string | null;
  ports: string | null;
  extra: string | null;
  cond: string | null;
}

const EXTRA_FIELDS = ['pool', 'ips', 'sharingKey', 'ipFamilyPolicy', 'ipFamilies'] as const;

/** A service's state as journal columns (see above). */
export function encodeState(seq: number, key: string, state: ServiceState | null): Row {
  if (state === null) return [seq, key, null, null, null, null];
  const req = state.request;
  let addrs: string | null = null;
  for (const a of state.addresses)
    addrs = addrs === null ? `${a.ip} ${a.pool}` : `${addrs},${a.ip} ${a.pool}`;
  let ports: string | null = null;
  if (req.ports) {
    ports = '';
    for (let i = 0; i < req.ports.length; i++) {
      const p = req.ports[i]!;
      ports += i ? `,${p.port}/${p.protocol}` : `${p.port}/${p.protocol}`;
    }
  }
  let extra: string | null = null;
  if (
    req.pool !== undefined ||
    req.ips ||
    req.sharingKey !== undefined ||
    req.ipFamilyPolicy ||
    req.ipFamilies
  ) {
    const e: Record<string, unknown> = {};
    for (const f of EXTRA_FIELDS) if (req[f] !== undefined) e[f] = req[f];
    extra = JSON.stringify(e);
  }
  const cond = state.condition ? `${state.condition.reason} ${state.condition.message}` : null;
  // A pending service with no condition cannot happen; keep the row distinguishable from a release.
  return [seq, key, addrs, ports, extra, cond ?? (addrs === null ? 'Unknown ' : null)];
}

const extraSchema = z.strictObject({
  pool: z.string().optional(),
  ips: z.array(z.string()).max(2).optional(),
  sharingKey: z.string().optional(),
  ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
  ipFamilies: z
    .array(z.enum(['IPv4', 'IPv6']))
    .max(2)
    .optional(),
});
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** A canonical dotted quad (no leading zeros), as the allocator writes them. */
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const PORT = /^([1-9]\d{0,4})\/(TCP|UDP|SCTP)$/;
const REASONS = new Set<string>([
  'NoPoolForNamespace',
  'PoolNotFound',
  'PoolDisabled',
  'PoolExhausted',
  'IpNotInPool',
  'IpInUse',
  'IpReserved',
  'FamilyUnavailable',
  'Unknown',
]);

/**
 * Journal columns back to a service's state (`null`: released). A row this version cannot read
 * (a damaged file, a foreign writer) is a `SPROUT_ERR_EIP_STORE` naming the entry, never a crash.
 */
export function decodeState(row: StoredRow): ServiceState | null {
  const bad = (what: string): never => {
    throw new EipError(
      'SPROUT_ERR_EIP_STORE',
      `journal entry ${row.seq} (${row.key}) is unreadable: ${what}`,
    );
  };
  if (row.addrs === null && row.cond === null) return null;
  const slash = row.key.indexOf('/');
  if (slash <= 0 || slash === row.key.length - 1) bad('the key is not namespace/name');
  const namespace = row.key.slice(0, slash);
  const name = row.key.slice(slash + 1);
  const request: AllocationRequest = { namespace, name };
  let extra: z.infer<typeof extraSchema> | undefined;
  if (row.extra !== null) {
    let json: unknown;
    try {
      json = JSON.parse(row.extra);
    } catch {
      bad('the request fields are not JSON');
    }
    const r = extraSchema.safeParse(json);
    if (!r.success) bad(`bad request fields: ${r.error.issues[0]!.message}`);
    extra = r.data;
  }
  if (extra?.pool !== undefined) request.pool = extra.pool;
  if (extra?.ips !== undefined) request.ips = extra.ips;
  if (extra?.sharingKey !== undefined) request.sharingKey = extra.sharingKey;
  if (row.ports !== null) {
    request.ports =
      row.ports === ''
        ? []
        : row.ports.split(',').map((p) => {
            const m = PORT.exec(p);
            if (!m || Number(m[1]) > 65535) return bad(`bad port ${JSON.stringify(p)}`);
            return { port: Number(m[1]), protocol: m[2] as Protocol };
          });
  }
  if (extra?.ipFamilyPolicy !== undefined) request.ipFamilyPolicy = extra.ipFamilyPolicy;
  if (extra?.ipFamilies !== undefined) request.ipFamilies = extra.ipFamilies;
  const ports = request.ports ?? [];
  const addresses: Allocation[] = [];
  if (row.addrs !== null) {
    for (const pair of row.addrs.split(',')) {
      const space = pair.indexOf(' ');
      if (space <= 0 || space === pair.length - 1) bad(`bad address ${JSON.stringify(pair)}`);
      const ip = pair.slice(0, space);
      const pool = pair.slice(space + 1);
      let family: 4 | 6 = 4;
      if (!IPV4.test(ip)) {
        // IPv6 (or damage): the general parser, and the text must be canonical as we write it.
        try {
          const parsed = parseIp(ip);
          if (formatIp(parsed) !== ip) throw new Error('not canonical');
          family = parsed.family;
        } catch {
          return bad(`bad address ${JSON.stringify(ip)}`);
        }
      }
      addresses.push(
        request.sharingKey !== undefined
          ? { ip, family, pool, sharingKey: request.sharingKey, ports }
          : { ip, family, pool, ports },
      );
    }
  }
  const base = { key: row.key, namespace, name, request };
  if (row.cond === null) return { ...base, status: 'allocated', addresses };
  const space = row.cond.indexOf(' ');
  const reason = space < 0 ? row.cond : row.cond.slice(0, space);
  if (!REASONS.has(reason)) bad(`unknown pending reason ${JSON.stringify(reason)}`);
  return {
    ...base,
    status: 'pending',
    addresses,
    condition: { reason: reason as PendingReason, message: space < 0 ? '' : row.cond.slice(space + 1) },
  };
}

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
      this.db.transaction(() => this.migrate()).immediate();
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

  /**
   * Creates the tables, or brings a store written by an earlier version up to date: version 1 kept
   * each journal entry as one JSON document (`state`); it is rewritten in columns and every other
   * process reloads (the config generation moves).
   */
  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    const cols = (this.db.prepare('PRAGMA table_info(journal)').all() as { name: string }[]).map(
      (c) => c.name,
    );
    if (cols.includes('state')) {
      const old = this.db.prepare('SELECT seq, key, state FROM journal ORDER BY seq').all() as {
        seq: number;
        key: string;
        state: string | null;
      }[];
      this.db.exec('DROP TABLE journal');
      this.db.exec(SCHEMA);
      const ins = this.db.prepare('INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?)');
      for (const r of old) {
        ins.run(
          ...encodeState(r.seq, r.key, r.state === null ? null : (JSON.parse(r.state) as ServiceState)),
        );
      }
      this.db.exec("UPDATE meta SET value = value + 1 WHERE name = 'config_gen'");
    } else {
      this.db.exec(SCHEMA);
    }
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
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
