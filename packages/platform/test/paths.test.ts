import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtures, harness, withToken, type Harness } from './helpers.js';

// Nothing built from input leaves its folder: a function name from the API path or from a folder's
// name never becomes a file path. API names only look functions up; folder names become DNS labels.
let h: Harness;
const scratch = mkdtempSync(join(tmpdir(), 'sprout-platform-paths-'));
beforeAll(async () => {
  h = await harness(['echo']);
});
afterAll(async () => {
  await h.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Every entry under a folder, recursively, as relative paths. */
const tree = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();

describe('function names from input', () => {
  const names = ['..', '..%2F..%2Fetc', '%2e%2e', '%2Fetc%2Fpasswd', 'a%00b', 'x'.repeat(300), '%E2%80%AE'];

  it.each(names)('the API answers %j with a coded 404 and touches no file', async (name) => {
    const before = tree(h.dataDir);
    for (const path of [
      `/v1/functions/${name}`,
      `/v1/functions/${name}/logs`,
      `/v1/functions/${name}/instances`,
    ]) {
      const r = await h.get(path);
      expect(r.status, path).toBe(404);
      expect((r.body as { error: { code: string } }).error.code, path).toMatch(
        /^SPROUT_ERR_PLATFORM_(UNKNOWN_FUNCTION|NO_ROUTE)$/,
      );
    }
    const del = await fetch(
      `${h.api.url}/v1/functions/${name}`,
      withToken(h.api.token, { method: 'DELETE' }),
    );
    expect(del.status).toBe(404);
    expect(tree(h.dataDir)).toEqual(before);
    expect(h.platform.names()).toEqual(['echo']);
  });

  it('a folder named with separators, dots and escapes registers as a DNS-label function', async () => {
    const odd = join(scratch, '..My Func%2F..');
    cpSync(join(fixtures, 'echo'), odd, { recursive: true });
    for (const f of readdirSync(odd)) if (f.startsWith('function.')) rmSync(join(odd, f));
    const r = await h.post('/v1/functions', { paths: [odd] });
    expect(r.status).toBe(201);
    const names = (r.body as { functions: { name: string }[] }).functions.map((f) => f.name);
    expect(names).toEqual(['my-func-2f']);
  });
});
