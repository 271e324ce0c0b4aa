import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFunctionYamlCached } from './cache.js';
import { loadFunctionYaml } from './load.js';

const yaml = (target: string) => `apiVersion: core.openfunction.io/v1beta2
kind: Function
metadata:
  name: cached
spec:
  serving:
    params:
      FUNCTION_TARGET: ${target}
`;

describe('a resolved function.yaml kept on disk', () => {
  it('resolves like loadFunctionYaml, keeps the result, and resolves again when the file changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-spec-cache-'));
    const cache = join(dir, 'cache');
    const file = join(dir, 'function.yaml');
    writeFileSync(file, yaml('first'));
    const fresh = await loadFunctionYamlCached(file, cache);
    expect(fresh).toEqual(JSON.parse(JSON.stringify(loadFunctionYaml(file))));
    const [entry] = readdirSync(join(cache, 'spec'));
    expect(entry).toMatch(/\.json$/);

    // The kept entry is what a second start reads: plant a marker in it to see it used.
    const path = join(cache, 'spec', entry!);
    const kept = JSON.parse(readFileSync(path, 'utf8')) as { fn: { target: string } };
    kept.fn.target = 'from-cache';
    writeFileSync(path, JSON.stringify(kept));
    expect((await loadFunctionYamlCached(file, cache)).target).toBe('from-cache');

    writeFileSync(file, yaml('second'));
    expect((await loadFunctionYamlCached(file, cache)).target).toBe('second');
  });

  it('ignores an unreadable entry and never keeps a refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-spec-cache-'));
    const cache = join(dir, 'cache');
    const file = join(dir, 'function.yaml');
    writeFileSync(file, yaml('ok'));
    await loadFunctionYamlCached(file, cache);
    const [entry] = readdirSync(join(cache, 'spec'));
    writeFileSync(join(cache, 'spec', entry!), '{not json');
    expect((await loadFunctionYamlCached(file, cache)).target).toBe('ok');

    writeFileSync(file, `${yaml('x')}  turbo: true\n`);
    await expect(loadFunctionYamlCached(file, cache)).rejects.toMatchObject({
      code: 'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
    });
    await expect(loadFunctionYamlCached(file, cache)).rejects.toMatchObject({
      code: 'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
    });
    await expect(loadFunctionYamlCached(join(dir, 'missing.yaml'), cache)).rejects.toMatchObject({
      code: 'SPROUT_ERR_SPEC_NO_FUNCTION',
    });
  });
});
