import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compiledTypeScript, warmCompileCache, warmCompileCacheOffThread } from './ts-cache.js';

describe('warmCompileCache', () => {
  it("compiles a folder's TypeScript once (not its packages, declarations or broken files), then finds it cached", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-ts-warm-'));
    const cache = mkdtempSync(join(tmpdir(), 'sprout-ts-warm-cache-'));
    writeFileSync(
      join(dir, 'index.ts'),
      "import { x } from './lib/x.js';\nexport const f = (n: number): number => n + x;\n",
    );
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib/x.ts'), 'export const x: number = 1;\n');
    writeFileSync(join(dir, 'types.d.ts'), 'export type T = string;\n');
    writeFileSync(join(dir, 'broken.ts'), 'export const = ;\n');
    mkdirSync(join(dir, 'node_modules/dep'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/dep/index.ts'), 'export const y = 2;\n');

    expect(await warmCompileCache(dir, cache)).toEqual({ compiled: 2, cached: 0 });
    expect(readdirSync(cache)).toHaveLength(2);
    expect(await warmCompileCache(dir, cache)).toEqual({ compiled: 0, cached: 2 });
    // What a start compiles is what the warm-up left: a cache hit with the same code.
    const file = join(dir, 'lib/x.ts');
    const hit = compiledTypeScript(file, 'export const x: number = 1;\n', cache);
    expect(hit.hit).toBe(true);
    expect(hit.code).toContain('exports.x = x');
  });

  it('answers zero for a folder that does not exist', async () => {
    expect(await warmCompileCache(join(tmpdir(), 'sprout-no-such-folder-'), tmpdir())).toEqual({
      compiled: 0,
      cached: 0,
    });
  });

  it('compiles on a worker thread, two folders asked for in one turn together', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'sprout-ts-warm-cache-'));
    for (const name of ['a', 'b']) {
      const dir = mkdtempSync(join(tmpdir(), `sprout-ts-warm-${name}-`));
      writeFileSync(join(dir, 'index.ts'), `export const ${name}: string = '${name}';\n`);
      warmCompileCacheOffThread(dir, cache);
    }
    await expect.poll(() => readdirSync(cache).length, { timeout: 20_000 }).toBe(2);
  });
});
