import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LAYERS, chainText, checkLayering, cycles, formatFindings, parseJsonc } from './check.mjs';

const roots = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

const sprout = (names) => Object.fromEntries(names.map((n) => [`@sprout/${n}`, '0.1.0']));

/**
 * A workspace on disk: `packages` maps a package name to its declared dependencies and files.
 * tsconfig references follow `dependencies` unless `references` is given.
 */
function workspace(packages, { contributing = `Packages depend only downwards: \`${chainText()}\`.` } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'sprout-layering-'));
  roots.push(root);
  const write = (file, text) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  if (contributing !== undefined) write('CONTRIBUTING.md', contributing);
  for (const [name, spec] of Object.entries(packages)) {
    const deps = spec.deps ?? [];
    write(
      `packages/${name}/package.json`,
      JSON.stringify({
        name: `@sprout/${name}`,
        exports: spec.exports ?? { '.': './dist/index.js' },
        dependencies: sprout(deps),
        devDependencies: sprout(spec.devDeps ?? []),
      }),
    );
    const refs = (spec.references ?? deps).map((d) => `{ "path": "../${d}" }`).join(', ');
    write(`packages/${name}/tsconfig.json`, `{\n  // comments are allowed\n  "references": [${refs}],\n}\n`);
    for (const [file, text] of Object.entries(spec.files ?? { 'src/index.ts': 'export {};\n' })) {
      write(`packages/${name}/${file}`, text);
    }
  }
  return root;
}

const rules = (findings) => findings.map((f) => `${f.file}${f.line ? `:${f.line}` : ''} ${f.rule}`);

describe('checkLayering', () => {
  it('passes a workspace that imports what it declares, down the table', () => {
    const root = workspace({
      cli: { deps: ['platform', 'kube'], files: { 'bin/sprout.js': "import '@sprout/platform';\n" } },
      platform: {
        deps: ['gateway', 'observe'],
        devDeps: ['kube'],
        files: {
          'src/index.ts': "export * from '@sprout/gateway';\nimport { a } from './a.js';\n",
          'src/a.ts': "import type { L } from '@sprout/observe';\nexport const a = 1;\n",
          'test/kube.test.ts': "import { v } from '@sprout/kube';\nimport '../src/index.js';\n",
        },
      },
      gateway: { deps: ['state', 'http'], files: { 'src/index.ts': "import('@sprout/state');\n" } },
      state: { deps: ['observe'] },
      observe: {},
      kube: { deps: ['http'], files: { 'hooks.mjs': "import { x } from '@sprout/http/testing';\n" } },
      http: { exports: { '.': './dist/index.js', './testing': './dist/testing.js' } },
    });
    expect(checkLayering(root)).toEqual([]);
  });

  it('reports a relative import out of the package from bin/, .mjs and .cjs files (the standby case)', () => {
    const root = workspace({
      cli: {},
      platform: {
        files: {
          'bin/standby.mjs': "const { main } = await import('../../cli/dist/main.js');\n",
          'hooks.cjs': "require('../cli/src/x.js');\n",
          'src/index.ts': "export * from '../../gateway/src/index.js';\nimport './inside.js';\n",
        },
      },
    });
    expect(rules(checkLayering(root))).toEqual([
      'packages/platform/bin/standby.mjs:1 escape',
      'packages/platform/hooks.cjs:1 escape',
      'packages/platform/src/index.ts:1 escape',
    ]);
  });

  it('reports undeclared imports: runtime code needs dependencies, tests may use devDependencies', () => {
    const root = workspace({
      platform: {
        deps: ['gateway'],
        devDeps: ['kube'],
        files: {
          'src/index.ts': "import '@sprout/gateway';\nimport { k } from '@sprout/kube';\n",
          'src/index.test.ts': "import { k } from '@sprout/kube';\n",
          'test/it.test.ts': "import { s } from '@sprout/state';\n",
        },
      },
      gateway: {},
      kube: {},
      state: {},
    });
    const findings = checkLayering(root);
    expect(rules(findings)).toEqual([
      'packages/platform/src/index.ts:2 undeclared',
      'packages/platform/test/it.test.ts:1 undeclared',
    ]);
    expect(findings[0].message).toMatch(/@sprout\/kube.*does not list in dependencies$/);
    expect(findings[1].message).toMatch(/dependencies or devDependencies$/);
  });

  it('reports unknown packages and subpaths a package does not export', () => {
    const root = workspace({
      cli: {
        deps: ['kube'],
        files: { 'src/index.ts': "import '@sprout/nope';\nimport '@sprout/kube/src/validate.js';\n" },
      },
      kube: {},
    });
    expect(rules(checkLayering(root))).toEqual([
      'packages/cli/src/index.ts:1 unknown',
      'packages/cli/src/index.ts:2 not-exported',
    ]);
  });

  it('reports dependencies up or across the table and out of leaves', () => {
    const root = workspace({
      state: { deps: ['platform'] },
      platform: {},
      gateway: { devDeps: ['collector'] },
      collector: {},
      observe: { deps: ['http'] },
      kube: { deps: ['http', 'spec'] },
      spec: { deps: ['http'] },
      http: {},
    });
    const findings = checkLayering(root);
    expect(findings.filter((f) => f.rule === 'layer').map((f) => `${f.file}: ${f.message}`)).toEqual([
      'packages/gateway/package.json: @sprout/collector in devDependencies: gateway and collector sit in the same layer; neither may depend on the other',
      'packages/kube/package.json: @sprout/spec in dependencies: kube is a leaf and may depend on http only',
      'packages/observe/package.json: @sprout/http in dependencies: observe is a leaf and may depend on no other package only',
      'packages/state/package.json: @sprout/platform in dependencies: platform is above state in the layer table',
    ]);
  });

  it('reports cycles in the declared graph and packages the table does not name', () => {
    const root = workspace({ dashboard: { deps: ['state'] }, state: { deps: ['dashboard'] } });
    const findings = checkLayering(root);
    expect(rules(findings)).toContain('packages/dashboard/package.json unlisted');
    expect(findings.filter((f) => f.rule === 'cycle').map((f) => f.message)).toEqual([
      'dependency cycle: dashboard → state → dashboard',
    ]);
  });

  it('reports tsconfig references that differ from the dependencies', () => {
    const root = workspace({
      platform: { deps: ['gateway', 'observe'], references: ['gateway', 'state'] },
      gateway: {},
      observe: {},
      state: {},
    });
    expect(checkLayering(root).map((f) => f.message)).toEqual([
      'lacks { "path": "../observe" } for its dependency @sprout/observe',
      'references ../state, which package.json does not list in dependencies',
    ]);
  });

  it('reports a CONTRIBUTING.md that no longer states the table', () => {
    const root = workspace({ observe: {} }, { contributing: 'Packages depend on whatever they like.' });
    expect(rules(checkLayering(root))).toEqual(['CONTRIBUTING.md docs']);
  });

  it('formats one line per finding', () => {
    expect(
      formatFindings([
        { file: 'a/b.ts', line: 3, rule: 'escape', message: 'm' },
        { file: 'a/package.json', rule: 'cycle', message: 'n' },
      ]),
    ).toBe('a/b.ts:3: escape: m\na/package.json: cycle: n');
  });
});

describe('helpers', () => {
  it('states the chain as CONTRIBUTING.md writes it', () => {
    expect(chainText(LAYERS)).toBe(
      'cli → platform → {gateway, triggers, collector, eip, builder, console, framework} → state → observe',
    );
  });

  it('finds each elementary cycle once', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c', 'a']],
      ['c', ['a']],
      ['d', ['d']],
    ]);
    expect(cycles(graph)).toEqual([
      ['a', 'b', 'c', 'a'],
      ['a', 'b', 'a'],
      ['d', 'd'],
    ]);
  });

  it('reads tsconfig-style JSON with comments and trailing commas', () => {
    expect(parseJsonc('{ /* c */ "a": [1, 2,], // x\n "b": "//not a comment", }')).toEqual({
      a: [1, 2],
      b: '//not a comment',
    });
  });
});
