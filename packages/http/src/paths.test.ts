import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import { insideDir, safeSegment } from './paths.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'sprout-http-paths-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    return `${(err as HttpError).code} ${(err as Error).message}`;
  }
  return 'ok';
}

describe('safeSegment', () => {
  it.each(['orders.db', 'fn.default.hello', 'a..b', '.hidden', 'é'.repeat(127), 'x'.repeat(255)])(
    'keeps %j',
    (name) => expect(safeSegment(name)).toBe(name),
  );

  it.each([
    ['', /is empty/],
    ['.', /names a folder/],
    ['..', /names a folder/],
    ['../etc', /path separator/],
    ['a/b', /path separator/],
    ['/etc/passwd', /path separator/],
    ['a\\b', /path separator/],
    ['a%2Fb', /has a %/],
    ['%2e%2e', /has a %/],
    ['a\0b', /NUL or control/],
    ['a\nb', /NUL or control/],
    ['x'.repeat(256), /over 255 bytes/],
    ['é'.repeat(128), /over 255 bytes/],
  ])('refuses %j', (name, why) => {
    expect(codeOf(() => safeSegment(name, 'store name'))).toMatch(/^SPROUT_ERR_HTTP_UNSAFE_PATH store name /);
    expect(codeOf(() => safeSegment(name))).toMatch(why);
  });

  // Seeded and time-boxed: whatever it keeps, joined to a folder, is exactly one entry of it.
  it('fuzz: every name it keeps stays one entry inside the folder', () => {
    const seed0 = Number(process.env.FUZZ_SEED ?? 0x5afe);
    let seed = seed0;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    const parts = ['.', '..', '/', '\\', '%2F', '%', '\0', 'a', 'b', '-', 'é', '\n', 'x'.repeat(100)];
    const end = Date.now() + Number(process.env.HTTP_FUZZ_MS ?? 300);
    let kept = 0;
    let n = 0;
    for (; n < 2000 || Date.now() < end; n++) {
      let name = '';
      for (let k = Math.floor(rnd() * 5); k >= 0; k--) name += parts[Math.floor(rnd() * parts.length)];
      let ok = true;
      try {
        safeSegment(name);
      } catch (err) {
        expect((err as HttpError).code, `seed ${seed0} ${JSON.stringify(name)}`).toBe(
          'SPROUT_ERR_HTTP_UNSAFE_PATH',
        );
        ok = false;
      }
      if (!ok) continue;
      kept++;
      const rel = relative(root, join(root, name));
      expect(rel, `seed ${seed0} ${JSON.stringify(name)}`).toBe(name);
      expect(rel.includes(sep)).toBe(false);
    }
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(n);
  });
});

describe('insideDir', () => {
  it('resolves relative paths inside the folder', () => {
    expect(insideDir(root, 'state/orders.db')).toBe(join(root, 'state', 'orders.db'));
    expect(insideDir(root, 'a/../b.db')).toBe(join(root, 'b.db'));
  });

  it.each([
    ['', /is empty/],
    ['.', /itself/],
    ['..', /leaves/],
    ['../x.db', /leaves/],
    ['state/../../x.db', /leaves/],
    ['/etc/passwd', /is absolute/],
    ['a\0.db', /NUL/],
    [`${'x'.repeat(256)}.db`, /over 255 bytes/],
  ])('refuses %j', (path, why) => {
    expect(codeOf(() => insideDir(root, path, 'connectionString'))).toMatch(
      /^SPROUT_ERR_HTTP_UNSAFE_PATH connectionString /,
    );
    expect(codeOf(() => insideDir(root, path))).toMatch(why);
  });
});
