import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeModulesSbom } from './sbom.js';
import { checkNodeVersion, requestedNodeVersion } from './version.js';

const root = mkdtempSync(join(tmpdir(), 'sprout-node-bp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the Node.js version asked for', () => {
  it('BP_NODE_VERSION, then engines.node, then .nvmrc, then .node-version', () => {
    const app = join(root, 'app');
    mkdirSync(app, { recursive: true });
    expect(requestedNodeVersion(app, {})).toBeUndefined();
    writeFileSync(join(app, '.node-version'), '20.1.0\n');
    expect(requestedNodeVersion(app, {})).toEqual({ range: '20.1.0', source: '.node-version' });
    writeFileSync(join(app, '.nvmrc'), 'lts/iron\n');
    expect(requestedNodeVersion(app, {})).toEqual({ range: 'lts/iron', source: '.nvmrc' });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ engines: { node: '>=18 <21' } }));
    expect(requestedNodeVersion(app, {})?.source).toBe('package.json engines.node');
    expect(requestedNodeVersion(app, { BP_NODE_VERSION: '20.*' })).toEqual({
      range: '20.*',
      source: 'BP_NODE_VERSION',
    });
  });

  const cases: [string, string, boolean][] = [
    ['20', '20.20.2', true],
    ['v20.20.2', '20.20.2', true],
    ['^20.11', '20.20.2', true],
    ['>=18 <21', '20.20.2', true],
    ['lts/*', '20.20.2', true],
    ['node', '20.20.2', true],
    ['22', '20.20.2', false],
    ['<20', '20.20.2', false],
    ['banana', '20.20.2', false],
  ];
  for (const [range, actual, ok] of cases)
    it(`${range} with ${actual}: ${ok ? 'accepted' : 'refused'}`, () => {
      const check = () => checkNodeVersion({ range, source: '.nvmrc' }, actual);
      if (ok) expect(check).not.toThrow();
      else
        expect(check).toThrow(
          expect.objectContaining({ code: 'SPROUT_ERR_BUILDER_NODE_VERSION', field: '.nvmrc' }),
        );
    });
});

describe('the CycloneDX SBOM of node_modules', () => {
  it('lists plain, scoped and nested packages once, sorted by purl, with licences and no timestamp', () => {
    const nm = join(root, 'node_modules');
    const pkg = (dir: string, json: object) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify(json));
    };
    pkg(join(nm, 'ms'), { name: 'ms', version: '2.1.3', license: 'MIT' });
    pkg(join(nm, '@scope', 'lib'), { name: '@scope/lib', version: '1.0.0', license: 'Apache-2.0 OR MIT' });
    pkg(join(nm, '@scope', 'lib', 'node_modules', 'ms'), { name: 'ms', version: '2.0.0' });
    pkg(join(nm, '.bin'), {});
    const bom = JSON.parse(nodeModulesSbom(nm, { name: 'app' })) as {
      specVersion: string;
      metadata: object;
      components: { purl: string; group?: string; licenses?: unknown }[];
    };
    expect(bom.specVersion).toBe('1.5');
    expect(bom.metadata).not.toHaveProperty('timestamp');
    expect(bom.components.map((c) => c.purl)).toEqual([
      'pkg:npm/%40scope/lib@1.0.0',
      'pkg:npm/ms@2.0.0',
      'pkg:npm/ms@2.1.3',
    ]);
    expect(bom.components[0]).toMatchObject({
      group: '@scope',
      licenses: [{ license: { name: 'Apache-2.0 OR MIT' } }],
    });
    expect(nodeModulesSbom(nm, { name: 'app' })).toBe(nodeModulesSbom(nm, { name: 'app' }));
  });
});
