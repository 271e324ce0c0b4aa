import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PlatformError } from './errors.js';

/** A registered function source as persisted: where it came from, when. */
export interface RegisteredSource {
  name: string;
  /** The folder or function.yaml it was loaded from (absolute). */
  path: string;
  registeredAt: string;
}

/** The registry's embedded store (SQLite under the data dir) so a restart keeps what was registered. */
export class RegistryStore {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    try {
      mkdirSync(dataDir, { recursive: true });
      this.db = new Database(join(dataDir, 'platform.db'));
      this.db.pragma('journal_mode = WAL');
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS functions (
           name TEXT PRIMARY KEY, path TEXT NOT NULL, spec TEXT NOT NULL, registered_at TEXT NOT NULL)`,
      );
    } catch (err) {
      throw new PlatformError(
        'SPROUT_ERR_PLATFORM_STORE',
        `cannot open the registry in ${dataDir}: ${(err as Error).message}`,
        500,
        { cause: err },
      );
    }
  }

  list(): RegisteredSource[] {
    return (
      this.db.prepare('SELECT name, path, registered_at FROM functions ORDER BY name').all() as {
        name: string;
        path: string;
        registered_at: string;
      }[]
    ).map((r) => ({ name: r.name, path: r.path, registeredAt: r.registered_at }));
  }

  put(name: string, path: string, spec: unknown): void {
    this.db
      .prepare(
        `INSERT INTO functions (name, path, spec, registered_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET path = excluded.path, spec = excluded.spec`,
      )
      .run(name, path, JSON.stringify(spec), new Date().toISOString());
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM functions WHERE name = ?').run(name);
  }

  /** Replaces the whole registry in one transaction. */
  replace(entries: { name: string; path: string; spec: unknown }[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM functions').run();
      for (const e of entries) this.put(e.name, e.path, e.spec);
    })();
  }

  close(): void {
    this.db.close();
  }
}
