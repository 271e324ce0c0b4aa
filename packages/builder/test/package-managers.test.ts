// yarn (1 and 4) and pnpm lockfiles built for real: neither tool is on PATH here, so the Node.js
// buildpack installs the version the lockfile needs from the npm registry into its cached
// package-manager layer, installs, builds, prunes; the image is unpacked with umoci and its process
// answers HTTP. A registry that cannot be reached gives the coded "missing" error.
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '@sprout/http/testing';
import { assembleRunImage, buildImage, isBuilderError, type BuildImageOptions } from '@sprout/builder';
import { bundleAnswer } from '@sprout/builder/testing';

const run = promisify(execFile);
const fixtures = join(import.meta.dirname, 'fixtures');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-builder-pm-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** The node-app fixture with `lockfile` (from fixtures/lockfiles/<kind>) in place of package-lock.json. */
async function appWith(kind: string, lockfile: string, pkgExtra: Record<string, unknown> = {}, name = kind) {
  const app = join(work, `app-${name}`);
  await cp(join(fixtures, 'node-app'), app, { recursive: true });
  await rm(join(app, 'package-lock.json'));
  await cp(join(fixtures, 'lockfiles', kind, lockfile), join(app, lockfile));
  const pkg = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(app, 'package.json'), JSON.stringify({ ...pkg, ...pkgExtra }, null, 2));
  return app;
}

function logs() {
  const lines: string[] = [];
  return { lines, text: () => lines.join('\n'), logs: { line: (t: string) => lines.push(t) } };
}

const PATH = '/usr/local/bin:/usr/bin:/bin'; // node and npm; no yarn, no pnpm

async function buildsAndRuns(kind: string, app: string, expected: string[]) {
  const out = join(work, `layout-${kind}`);
  const base: BuildImageOptions = {
    source: app,
    tag: `localhost/${kind}:1`,
    dataDir: join(work, `data-${kind}`),
    env: { PATH },
    output: { type: 'oci-layout', dir: out },
    runImage: (layout) => assembleRunImage(layout),
    logs: logs().logs,
  };
  const l1 = logs();
  const first = await buildImage({ ...base, logs: l1.logs });
  for (const e of expected) expect(l1.text()).toContain(e);
  expect(l1.text()).toContain('[sprout/node] $ npm run build');

  const bundle = join(work, `bundle-${kind}`);
  await run('umoci', ['unpack', '--image', `${out}:1`, bundle]);
  const modules = join(bundle, 'rootfs/layers/sprout_node/launch-modules/node_modules');
  await expect(readFile(join(modules, 'ms/package.json'), 'utf8')).resolves.toContain('"2.1.3"');
  await expect(readFile(join(modules, 'is-number/package.json'))).rejects.toThrow();
  // Nothing the tool wrote outside node_modules (yarn 4's install state) is in the app.
  await expect(readFile(join(bundle, 'rootfs/workspace/.yarn/install-state.gz'))).rejects.toThrow();
  expect(await bundleAnswer(bundle)).toBe('two days is 172800000 ms; built with is-number true; uid 1000\n');

  // Again: the package manager and the dependencies from the cache, the same digest.
  const l2 = logs();
  const second = await buildImage({ ...base, logs: l2.logs });
  expect(l2.text()).toMatch(/reusing cached (pnpm|yarn|@yarnpkg\/cli-dist)@/);
  expect(l2.text()).toContain('reusing cached dependency layers');
  expect(second.image.descriptor.digest).toBe(first.image.descriptor.digest);
}

describe('yarn and pnpm lockfiles', () => {
  const cases: [string, string, string, Record<string, unknown>, string[]][] = [
    [
      'pnpm-lock.yaml: the pinned pnpm installed from the registry, frozen install, prune --prod',
      'pnpm',
      'pnpm-lock.yaml',
      { packageManager: 'pnpm@9.15.9' },
      [
        'installing pnpm@9.15.9 from the npm registry',
        '$ pnpm install --frozen-lockfile',
        '$ pnpm prune --prod',
      ],
    ],
    [
      'yarn.lock v1: yarn 1 from the registry, --frozen-lockfile, --production',
      'yarn-classic',
      'yarn.lock',
      {},
      [
        'installing yarn@1.22.22 from the npm registry',
        '$ yarn install --frozen-lockfile --non-interactive',
        '$ yarn install --frozen-lockfile --non-interactive --production',
      ],
    ],
    [
      'yarn.lock of Yarn 2+ (__metadata): Yarn 4 with a node_modules linker, --immutable, workspaces focus --production',
      'yarn-berry',
      'yarn.lock',
      {},
      [
        'installing @yarnpkg/cli-dist@4.9.2 from the npm registry',
        '$ yarn install --immutable',
        '$ yarn workspaces focus --production',
      ],
    ],
  ];
  it.each(cases)(
    '%s; the image runs, a rebuild gives the same digest',
    async (_, kind, lockfile, extra, expected) => {
      const app = await appWith(kind, lockfile, extra);
      await buildsAndRuns(
        kind,
        app,
        expected.map((e) => `[sprout/node] ${e}`),
      );
    },
    300_000,
  );

  it('a yarn on PATH is used as it is (nothing installed) unless package.json pins a version', async () => {
    const tools = join(work, 'tools');
    await run('npm', [
      'install',
      '--prefix',
      tools,
      '--no-save',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      'yarn@1.22.22',
    ]);
    const app = await appWith('yarn-classic', 'yarn.lock', {}, 'on-path');
    const l = logs();
    await buildImage({
      source: app,
      tag: 'localhost/on-path:1',
      dataDir: join(work, 'data-on-path'),
      env: { PATH: `${join(tools, 'node_modules', '.bin')}:${PATH}` },
      logs: l.logs,
    });
    expect(l.text()).toContain('[sprout/node] $ yarn install --frozen-lockfile --non-interactive');
    expect(l.text()).not.toContain('from the npm registry');
    // Pinned: the pinned version is installed even with a yarn on PATH.
    const pinned = await appWith('yarn-classic', 'yarn.lock', { packageManager: 'yarn@1.22.22' }, 'pinned');
    const lp = logs();
    await buildImage({
      source: pinned,
      tag: 'localhost/pinned:1',
      dataDir: join(work, 'data-pinned'),
      env: { PATH: `${join(tools, 'node_modules', '.bin')}:${PATH}` },
      logs: lp.logs,
    });
    expect(lp.text()).toContain('[sprout/node] installing yarn@1.22.22 from the npm registry');
  }, 180_000);

  it('a registry that cannot give the tool: SPROUT_ERR_BUILDER_PACKAGE_MANAGER_MISSING saying what to do', async () => {
    const app = await appWith('yarn-classic', 'yarn.lock', { packageManager: 'yarn@1.22.22' }, 'missing');
    // The registry answers 503 to everything.
    const registry = createServer((_req, res) => res.writeHead(503).end());
    const port = await listen(registry);
    try {
      const err = await buildImage({
        source: app,
        tag: 'localhost/missing:1',
        dataDir: join(work, 'data-missing'),
        env: {
          PATH,
          npm_config_registry: `http://127.0.0.1:${port}/`,
          npm_config_fetch_retries: '0',
          npm_config_cache: join(work, 'empty-npm-cache'),
        },
        logs: logs().logs,
      }).catch((e: unknown) => e);
      expect(isBuilderError(err, 'SPROUT_ERR_BUILDER_PACKAGE_MANAGER_MISSING')).toBe(true);
      expect((err as Error).message).toContain(
        "yarn.lock needs yarn; it is not on PATH and 'npm install yarn@1.22.22' failed",
      );
      expect((err as Error).message).toContain('make the npm registry reachable');
    } finally {
      await closeServer(registry);
    }
  }, 120_000);
});
