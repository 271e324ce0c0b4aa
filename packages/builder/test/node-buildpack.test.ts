import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleRunImage, buildImage, isBuilderError, type BuildImageOptions } from '@sprout/builder';
import { bundleAnswer } from '@sprout/builder/testing';

const run = promisify(execFile);
const fixture = join(import.meta.dirname, 'fixtures', 'node-app');
let work: string;
let app: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-builder-node-'));
  app = join(work, 'app');
  await cp(fixture, app, { recursive: true });
});
afterAll(() => rm(work, { recursive: true, force: true }));

function logs() {
  const lines: string[] = [];
  return { lines, logs: { line: (t: string) => lines.push(t) } };
}

describe('the built-in Node.js buildpack', () => {
  it('npm ci, build script, dev dependencies pruned, SBOM; the image runs; an app-only change rebuilds only the app layer', async () => {
    const out = join(work, 'layout');
    const base: BuildImageOptions = {
      source: app,
      tag: 'localhost/node-app:1',
      dataDir: join(work, 'data'),
      output: { type: 'oci-layout', dir: out },
      runImage: (layout) => assembleRunImage(layout),
      logs: logs().logs,
    };
    const l1 = logs();
    const first = await buildImage({ ...base, logs: l1.logs });
    const text = l1.lines.join('\n');
    expect(text).toContain('[sprout/node] $ npm ci');
    expect(text).toContain('[sprout/node] $ npm run build');
    expect(text).toContain('[sprout/node] $ npm prune --omit=dev');
    expect(text).toContain('[sprout/node] process web: node server.js');
    expect(first.layers.map((l) => l.name)).toEqual(['launch-modules']);
    expect(first.image.config.config!.Entrypoint).toEqual(['node', 'server.js']);

    const bundle = join(work, 'bundle');
    await run('umoci', ['unpack', '--image', `${out}:1`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    await expect(
      readFile(join(rootfs, 'layers/sprout_node/launch-modules/node_modules/ms/package.json'), 'utf8'),
    ).resolves.toContain('"2.1.3"');
    await expect(
      readFile(join(rootfs, 'layers/sprout_node/launch-modules/node_modules/is-number/package.json')),
    ).rejects.toThrow();
    const sbom = JSON.parse(
      await readFile(join(rootfs, 'layers/sbom/launch/sprout_node/launch-modules/sbom.cdx.json'), 'utf8'),
    ) as { bomFormat: string; components: { purl: string }[] };
    expect(sbom.bomFormat).toBe('CycloneDX');
    expect(sbom.components.map((c) => c.purl)).toEqual(['pkg:npm/ms@2.1.3']);
    expect(await bundleAnswer(bundle)).toBe(
      'two days is 172800000 ms; built with is-number true; uid 1000\n',
    );

    // Same source again: every dependency layer from the cache, the same image digest.
    const l2 = logs();
    const second = await buildImage({ ...base, logs: l2.logs });
    expect(l2.lines.join('\n')).toContain('reusing cached dependency layers');
    expect(l2.lines.join('\n')).not.toContain('$ npm ci');
    expect(l2.lines.join('\n')).toContain('reusing layer sprout/node:launch-modules');
    expect(second.image.descriptor.digest).toBe(first.image.descriptor.digest);

    // An app-only change: the dependency layer is reused as it was, only the app layer changes.
    await writeFile(join(app, 'server.js'), `${await readFile(join(app, 'server.js'), 'utf8')}// changed\n`);
    const l3 = logs();
    const third = await buildImage({ ...base, logs: l3.logs });
    expect(l3.lines.join('\n')).not.toContain('$ npm ci');
    expect(l3.lines.join('\n')).toContain('$ npm run build');
    expect(third.layers[0]!.layer.digest).toBe(first.layers[0]!.layer.digest);
    expect(third.app.digest).not.toBe(first.app.digest);
    const changed = third.image.manifest.layers.filter(
      (l) => !first.image.manifest.layers.some((f) => f.digest === l.digest),
    );
    expect(changed.map((l) => l.digest)).toEqual([third.app.digest]);
  }, 180_000);

  it('refuses an empty folder (naming what detect looked for), a Node.js version the local toolchain cannot satisfy, a lockfile of a missing tool, a failing install', async () => {
    const dir = join(work, 'bad');
    await mkdir(dir, { recursive: true });
    const opts = { source: dir, tag: 'localhost/bad:1', dataDir: join(work, 'data'), logs: logs().logs };
    const nothing = await buildImage(opts).catch((e: unknown) => e);
    expect(isBuilderError(nothing, 'SPROUT_ERR_BUILDER_DETECT_FAILED')).toBe(true);
    expect((nothing as Error).message).toContain(
      'sprout/node failed (looked for package.json, function.yaml',
    );
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'bad', engines: { node: '<1' }, scripts: { start: 'node x.js' } }),
    );
    const version = await buildImage(opts).catch((e: unknown) => e);
    expect(isBuilderError(version, 'SPROUT_ERR_BUILDER_NODE_VERSION')).toBe(true);
    expect((version as Error).message).toContain(`is ${process.versions.node}`);
    await writeFile(join(dir, '.nvmrc'), 'v20\n');
    const env = await buildImage({ ...opts, env: { BP_NODE_VERSION: 'not a range' } }).catch(
      (e: unknown) => e,
    );
    expect((env as Error).message).toContain('BP_NODE_VERSION asks for Node.js "not a range"');

    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'bad', dependencies: { ms: '2.1.3' }, scripts: { start: 'node x.js' } }),
    );
    await writeFile(join(dir, 'yarn.lock'), '# yarn lockfile v1\n');
    // Neither yarn nor npm (which would install it) on PATH; test/package-managers.test.ts has the rest.
    const yarn = await buildImage({ ...opts, env: { PATH: join(work, 'no-bin') } }).catch((e: unknown) => e);
    expect(isBuilderError(yarn, 'SPROUT_ERR_BUILDER_PACKAGE_MANAGER_MISSING')).toBe(true);
    expect((yarn as Error).message).toContain('yarn.lock needs yarn; neither it nor npm');
    await rm(join(dir, 'yarn.lock'));

    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'bad',
        dependencies: { ms: '2.1.3' },
        scripts: { preinstall: 'echo "cannot install here" >&2; exit 3', start: 'node x.js' },
      }),
    );
    const install = await buildImage(opts).catch((e: unknown) => e);
    expect(isBuilderError(install, 'SPROUT_ERR_BUILDER_BUILD_FAILED')).toBe(true);
    expect((install as Error).message).toMatch(/npm install exited with 3[\s\S]*cannot install here/);
  });
});
