import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeModulesSbom } from './sbom.js';

const root = mkdtempSync(join(tmpdir(), 'sprout-sbom-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function pkg(dir: string, name: string, version: string, license?: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, version, ...(license ? { license } : {}) }),
  );
}

const purls = (nm: string) =>
  (JSON.parse(nodeModulesSbom(nm, { name: 'app' })) as { components: { purl: string }[] }).components.map(
    (c) => c.purl,
  );

describe('the node_modules SBOM', () => {
  it('lists npm trees (scoped and nested) and pnpm trees (the .pnpm store, transitive packages included) once each', () => {
    const npm = join(root, 'npm', 'node_modules');
    pkg(join(npm, 'a'), 'a', '1.0.0', 'MIT');
    pkg(join(npm, 'a', 'node_modules', 'b'), 'b', '2.0.0');
    pkg(join(npm, '@s', 'c'), '@s/c', '3.0.0');
    expect(purls(npm)).toEqual(['pkg:npm/%40s/c@3.0.0', 'pkg:npm/a@1.0.0', 'pkg:npm/b@2.0.0']);

    // pnpm: the top level links into .pnpm; a's dependency b is only in the store, linked beside a.
    const pnpm = join(root, 'pnpm', 'node_modules');
    pkg(join(pnpm, '.pnpm', 'a@1.0.0', 'node_modules', 'a'), 'a', '1.0.0');
    pkg(join(pnpm, '.pnpm', 'b@2.0.0', 'node_modules', 'b'), 'b', '2.0.0');
    symlinkSync('../../b@2.0.0/node_modules/b', join(pnpm, '.pnpm', 'a@1.0.0', 'node_modules', 'b'));
    writeFileSync(join(pnpm, '.pnpm', 'lock.yaml'), 'lockfileVersion: 9.0\n');
    symlinkSync('.pnpm/a@1.0.0/node_modules/a', join(pnpm, 'a'));
    writeFileSync(join(pnpm, '.modules.yaml'), '{}\n');
    expect(purls(pnpm)).toEqual(['pkg:npm/a@1.0.0', 'pkg:npm/b@2.0.0']);
  });
});
