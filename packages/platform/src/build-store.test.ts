import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResolvedFunction } from '@sprout/spec';
import { BuildStore, INTERRUPTED } from './build-store.js';
import { BuildManager, type BuildView } from './builds.js';
import { EventBus } from './events.js';
import { PlatformError } from './errors.js';

const root = mkdtempSync(join(tmpdir(), 'sprout-build-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const view = (n: number, status: BuildView['status'] = 'succeeded'): BuildView => ({
  id: `b-${n.toString(36).padStart(8, '0')}-0000000${n % 10}`,
  function: 'hello',
  source: '/src/hello',
  tag: 'localhost/hello:dev',
  output: 'store',
  push: false,
  status,
  phases: [{ name: 'analyze', startedAt: new Date(1_000_000 + n).toISOString() }],
  startedAt: new Date(1_000_000 + n).toISOString(),
});
const line = (n: number, text: string) =>
  ({ n, time: '2026-01-01T00:00:00.000Z', stream: 'stdout', text }) as const;

describe('the build history on disk', () => {
  it('gives back records oldest first and logs line by line; a build left running is interrupted', () => {
    const dir = join(root, 'a');
    const store = new BuildStore(dir);
    store.save(view(2));
    store.save(view(1, 'failed'));
    store.save(view(3, 'running'));
    store.appendLog(view(2).id, line(1, '===> ANALYZING'));
    store.appendLog(view(2).id, line(2, 'done'));
    appendFileSync(join(dir, `${view(2).id}.log`), '{"n":3,"te'); // torn by a kill mid-write
    writeFileSync(join(dir, 'notes.json'), '{}'); // not a build: ignored
    writeFileSync(join(dir, 'b-00000009-00000009.json'), '{"id":'); // torn record: skipped

    const again = new BuildStore(dir);
    const loaded = again.load();
    expect(loaded.map((v) => v.id)).toEqual([view(1).id, view(2).id, view(3).id]);
    expect(loaded[2]).toMatchObject({ status: 'failed', error: INTERRUPTED });
    expect(loaded[2]!.finishedAt).toMatch(/^\d{4}-/);
    expect(new BuildStore(dir).load()[2]).toEqual(loaded[2]); // saved as interrupted
    expect(again.readLog(view(2).id).map((l) => l.text)).toEqual(['===> ANALYZING', 'done']);
    expect(again.readLog(view(1).id)).toEqual([]);
  });

  it('keeps the newest finished builds within the limit and a bounded log per build', () => {
    const dir = join(root, 'b');
    const store = new BuildStore(dir, { builds: 2, logBytes: 200 });
    const views = [view(1), view(2), view(3, 'running'), view(4)];
    for (const v of views) store.save(v);
    for (let i = 1; i <= 10; i++) store.appendLog(view(4).id, line(i, `line ${i}`));
    const drop = store.overLimit(views);
    expect(drop).toEqual([view(1).id]);
    for (const id of drop) store.remove(id);
    expect(readdirSync(dir).sort()).toEqual(
      [`${view(2).id}.json`, `${view(3).id}.json`, `${view(4).id}.json`, `${view(4).id}.log`].sort(),
    );
    const kept = store.readLog(view(4).id);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(10);
    expect(kept.map((l) => l.n)).toEqual(kept.map((_, i) => i + 1));
  });

  it('a data dir where nothing can be written: a build is refused with a code; history writes during a build are skipped', () => {
    const dataDir = join(root, 'c');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'build-history'), 'a file where the folder goes');
    const store = new BuildStore(join(dataDir, 'build-history'));
    expect(() => store.keep(view(1))).not.toThrow();
    expect(() => store.appendLog(view(1).id, line(1, 'x'))).not.toThrow();
    const builds = new BuildManager({
      dataDir,
      events: new EventBus(),
      functions: () => [{ name: 'hello', dir: join(root, 'c') } as ResolvedFunction],
    });
    const err = (() => {
      try {
        builds.start({ function: 'hello' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({ code: 'SPROUT_ERR_PLATFORM_STORE', status: 500 });
    expect((err as Error).message).toContain('make the data dir writable');
    expect(builds.list()).toEqual([]);
  });
});
