import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuilderError } from '../errors.js';
import { removeStaleTemporaries } from './blob-writer.js';
import { sha256 } from './digest.js';
import { OciLayout } from './layout.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sprout-builder-blob-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('blobs are whole or absent', () => {
  it('a blob whose bytes differ from the expected digest is refused and leaves nothing', async () => {
    const layout = await OciLayout.open(join(dir, 'mismatch'));
    const w = await layout.newBlob();
    await w.write(Buffer.from('abc'));
    const err = await w.commit(sha256('abd')).catch((e: unknown) => e);
    expect(isBuilderError(err, 'SPROUT_ERR_BUILDER_DIGEST_MISMATCH')).toBe(true);
    expect(await readdir(join(layout.dir, 'blobs', 'sha256'))).toEqual([]);
    expect(await readdir(join(layout.dir, '.sprout-tmp'))).toEqual([]);
  });

  it('a writer killed with SIGKILL mid-blob leaves no blob under a digest name; its temporary file goes once stale', async () => {
    const layout = await OciLayout.open(join(dir, 'killed'));
    // another process streams a blob through BlobWriter and is killed before it commits
    const script = `import { OciLayout } from '@sprout/builder';
      const w = await (await OciLayout.open(${JSON.stringify(layout.dir)})).newBlob();
      for (;;) await w.write(Buffer.alloc(65536, 7));`;
    const child = spawn(
      process.execPath,
      ['--conditions=@sprout/source', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: 'ignore',
      },
    );
    const tmpDir = join(layout.dir, '.sprout-tmp');
    const size = async () =>
      (await Promise.all((await readdir(tmpDir).catch(() => [])).map((n) => stat(join(tmpDir, n))))).reduce(
        (a, s) => a + s.size,
        0,
      );
    for (let i = 0; i < 300 && (await size()) < 1024 * 1024; i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await size()).toBeGreaterThan(1024 * 1024);
    expect(await readdir(join(layout.dir, 'blobs', 'sha256'))).toEqual([]);
    await OciLayout.open(layout.dir);
    const [tmpName] = await readdir(tmpDir);
    expect(tmpName).toBeDefined(); // fresh: it may be a live writer's, so it stays
    const tmp = join(tmpDir, tmpName!);
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(tmp, old, old);
    await OciLayout.open(layout.dir);
    expect(await readdir(join(layout.dir, '.sprout-tmp'))).toEqual([]);
    // the layout still works
    const d = await layout.putBytes(Buffer.from('after'), 'text/plain');
    expect((await readFile(layout.blobPath(d.digest))).toString()).toBe('after');
    expect(await removeStaleTemporaries(layout.dir, 0)).toBe(0);
  });
});
