import type Database from 'better-sqlite3';
import type { ServiceState } from '../allocation.js';
import { encodeState } from './journal-codec.js';

/** Version 2: journal entries in columns (see journal-codec.ts). */
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

/**
 * Creates the tables, or brings a store written by an earlier version up to date: version 1 kept
 * each journal entry as one JSON document (`state`); it is rewritten in columns and every other
 * process reloads (the config generation moves). Runs inside the opening transaction.
 */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version >= SCHEMA_VERSION) return;
  const cols = (db.prepare('PRAGMA table_info(journal)').all() as { name: string }[]).map((c) => c.name);
  if (cols.includes('state')) {
    const old = db.prepare('SELECT seq, key, state FROM journal ORDER BY seq').all() as {
      seq: number;
      key: string;
      state: string | null;
    }[];
    db.exec('DROP TABLE journal');
    db.exec(SCHEMA);
    const ins = db.prepare('INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?)');
    for (const r of old) {
      ins.run(...encodeState(r.seq, r.key, r.state === null ? null : (JSON.parse(r.state) as ServiceState)));
    }
    db.exec("UPDATE meta SET value = value + 1 WHERE name = 'config_gen'");
  } else {
    db.exec(SCHEMA);
  }
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}
