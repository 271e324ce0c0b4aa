import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../src/index.js';
import { describeConformance } from './conformance.js';
import { component, tempDir } from './helpers.js';

const tmp = tempDir('sqlite');
afterAll(() => tmp.remove());

describeConformance('sqlite', {
  open: ({ appId, maxValueBytes }) =>
    openStateStore(component('local', 'state.sqlite', { cleanupInterval: '1s' }), {
      appId,
      dataDir: tmp.dir,
      ...(maxValueBytes ? { maxValueBytes } : {}),
    }),
});

describe('sqlite engine', () => {
  it('keeps its file under <dataDir>/state/<name>.db in WAL mode and survives reopening', async () => {
    const c = component('durable', 'state.sqlite');
    const a = await openStateStore(c, { appId: 'app', dataDir: tmp.dir });
    await a.save({ key: 'k', value: { kept: true } });
    await a.close();
    expect(existsSync(join(tmp.dir, 'state', 'durable.db'))).toBe(true);
    const b = await openStateStore(c, { appId: 'app', dataDir: tmp.dir });
    expect((await b.get('k'))?.value).toEqual({ kept: true });
    await b.close();
  });

  it('purges expired rows on its cleanup interval', async () => {
    const dir = tempDir('sqlite-ttl');
    const c = component('ttl', 'state.sqlite', { cleanupInterval: '200ms' });
    const store = await openStateStore(c, { appId: 'app', dataDir: dir.dir });
    await store.save({ key: 'short', value: 1, metadata: { ttlInSeconds: '1' } });
    await new Promise((r) => setTimeout(r, 1500));
    await store.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(dir.dir, 'state', 'ttl.db'));
    expect(db.prepare('SELECT count(*) AS n FROM state').get()).toEqual({ n: 0 });
    db.close();
    dir.remove();
  });

  it('is safe across several processes: concurrent etag increments never lose an update', async () => {
    const dir = tempDir('sqlite-mp');
    const c = component('shared', 'state.sqlite');
    const store = await openStateStore(c, { appId: 'app', dataDir: dir.dir });
    await store.save({ key: 'counter', value: 0 });
    const worker = fileURLToPath(new URL('./fixtures/sqlite-incrementer.ts', import.meta.url));
    const perProcess = 25;
    const procs = [0, 1, 2].map(
      () =>
        new Promise<number>((resolve, reject) => {
          const p = spawn(process.execPath, ['--import', 'tsx', worker, dir.dir, String(perProcess)], {
            stdio: ['ignore', 'ignore', 'pipe'],
            env: { ...process.env, NODE_OPTIONS: '' },
          });
          let err = '';
          p.stderr.on('data', (d: Buffer) => (err += d.toString()));
          p.on('error', reject);
          p.on('exit', (code) =>
            code === 0 ? resolve(code) : reject(new Error(`worker exited ${code}: ${err}`)),
          );
        }),
    );
    // This process increments too, at the same time.
    for (let i = 0; i < perProcess; i++) {
      for (;;) {
        const cur = (await store.get<number>('counter'))!;
        try {
          await store.save({ key: 'counter', value: cur.value + 1, etag: cur.etag });
          break;
        } catch {
          /* conflict: retry */
        }
      }
    }
    await Promise.all(procs);
    expect((await store.get<number>('counter'))?.value).toBe(perProcess * 4);
    await store.close();
    dir.remove();
  }, 60_000);

  it('warns about an unknown metadata field, naming it, and opens the store (as Dapr does)', async () => {
    const warnings: string[] = [];
    const store = await openStateStore(component('x', 'state.sqlite', { conectionString: 'a.db' }), {
      appId: 'a',
      dataDir: tmp.dir,
      onWarning: (w) => warnings.push(w),
    });
    await store.close();
    expect(warnings).toEqual([
      expect.stringContaining('"conectionString" is not documented for state.sqlite'),
    ]);
  });
});
