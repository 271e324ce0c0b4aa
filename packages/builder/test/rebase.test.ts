import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LIFECYCLE_METADATA,
  OciLayout,
  pushImage,
  rebaseImage,
  rebaseInRegistry,
  writeImage,
  writeLayer,
  type OciImage,
} from '@sprout/builder';
import { startRegistry, type Registry } from '@sprout/builder/testing';

const run = promisify(execFile);
let work: string;
let layout: OciLayout;
let runA: OciImage;
let runB: OciImage;
let app: OciImage;

async function runImage(name: string, files: number): Promise<OciImage> {
  const layers = [];
  for (let i = 0; i < files; i++)
    layers.push({
      layer: await writeLayer(layout, [{ to: `/etc/run-${name}-${i}`, content: `${name} ${i}\n` }]),
      createdBy: `run ${name} ${i}`,
    });
  return writeImage(layout, { layers, config: { env: { RUN: name }, user: '1000:1000' } });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-builder-rebase-'));
  layout = await OciLayout.open(join(work, 'layout'));
  runA = await runImage('a', 2);
  runB = await runImage('b', 3);
  const appLayer = await writeLayer(layout, [{ to: '/workspace/app.js', content: 'console.log(1)\n' }], {
    uid: 1000,
    gid: 1000,
  });
  const cfgLayer = await writeLayer(layout, [
    { to: '/cnb/config/metadata.toml', content: '[[processes]]\n' },
  ]);
  const meta = {
    app: [{ sha: appLayer.digest }],
    runImage: { topLayer: runA.config.rootfs.diff_ids.at(-1), reference: runA.descriptor.digest },
  };
  app = await writeImage(layout, {
    base: runA,
    layers: [
      { layer: appLayer, createdBy: 'app' },
      { layer: cfgLayer, createdBy: 'config' },
    ],
    config: {
      entrypoint: ['/usr/local/bin/node', '/workspace/app.js'],
      labels: { [LIFECYCLE_METADATA]: JSON.stringify(meta), keep: 'me' },
    },
  });
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('rebase', () => {
  it('swaps the run-image layers and keeps every app layer digest, the process config and the labels', async () => {
    const { image, appLayers } = await rebaseImage(layout, app, { image: runB, ref: 'example.com/run:b' });
    expect(appLayers).toBe(2);
    expect(image.manifest.layers.map((l) => l.digest)).toEqual(
      [...runB.manifest.layers, ...app.manifest.layers.slice(2)].map((l) => l.digest),
    );
    expect(image.config.rootfs.diff_ids).toEqual([
      ...runB.config.rootfs.diff_ids,
      ...app.config.rootfs.diff_ids.slice(2),
    ]);
    expect(image.config.history?.map((h) => h.created_by)).toEqual([
      'run b 0',
      'run b 1',
      'run b 2',
      'app',
      'config',
    ]);
    expect(image.config.config?.Entrypoint).toEqual(app.config.config?.Entrypoint);
    expect(image.config.config?.Labels?.keep).toBe('me');
    const meta = JSON.parse(image.config.config!.Labels![LIFECYCLE_METADATA]!) as {
      runImage: Record<string, string>;
      app: unknown;
    };
    expect(meta.runImage).toEqual({
      topLayer: runB.config.rootfs.diff_ids.at(-1),
      reference: runB.descriptor.digest,
      image: 'example.com/run:b',
    });
    expect(meta.app).toEqual([{ sha: app.manifest.layers[2]!.digest }]);
    // and back onto A: the original layers again (the config differs only in the metadata label)
    const back = await rebaseImage(layout, image, { image: runA });
    expect(back.image.manifest.layers).toEqual(app.manifest.layers);
    await layout.tag(image, 'rebased');
    const bundle = join(work, 'bundle');
    await run('umoci', ['unpack', '--image', `${layout.dir}:rebased`, bundle]);
    expect(await readFile(join(bundle, 'rootfs/etc/run-b-2'), 'utf8')).toBe('b 2\n');
    expect(await readFile(join(bundle, 'rootfs/workspace/app.js'), 'utf8')).toBe('console.log(1)\n');
    await expect(stat(join(bundle, 'rootfs/etc/run-a-0'))).rejects.toThrow();
  });

  it('refuses an image without lifecycle metadata or whose top layer is not in it', async () => {
    await expect(rebaseImage(layout, runA, { image: runB })).rejects.toMatchObject({
      code: 'SPROUT_ERR_BUILDER_REBASE_UNSUPPORTED',
    });
    const labels = {
      [LIFECYCLE_METADATA]: JSON.stringify({ runImage: { topLayer: runB.config.rootfs.diff_ids[0] } }),
    };
    const stray = { ...app, config: { ...app.config, config: { ...app.config.config, Labels: labels } } };
    await expect(rebaseImage(layout, stray, { image: runB })).rejects.toMatchObject({
      code: 'SPROUT_ERR_BUILDER_REBASE_UNSUPPORTED',
    });
  });

  describe('in a registry', () => {
    let registry: Registry;
    beforeAll(async () => {
      registry = await startRegistry();
    });
    afterAll(() => registry.close());

    it('sends only config and manifest: run layers mounted, app layers already there; skopeo sees the result', async () => {
      const opts = { plainHttp: true };
      await pushImage(layout, app, `${registry.host}/team/app:1`, opts);
      await pushImage(layout, runB, `${registry.host}/base/run:b`, opts);
      const fresh = await OciLayout.open(join(work, 'fresh'));
      const result = await rebaseInRegistry(
        `${registry.host}/team/app:1`,
        `${registry.host}/base/run:b`,
        fresh,
        { ...opts, tag: `${registry.host}/team/app:rebased` },
      );
      expect([result.mounted, result.existing, result.uploaded, result.appLayers]).toEqual([3, 2, 1, 2]);
      const { stdout } = await run('skopeo', [
        'inspect',
        '--tls-verify=false',
        `docker://${registry.host}/team/app:rebased`,
      ]);
      const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[] };
      expect(inspected.Digest).toBe(result.digest);
      expect(inspected.Layers).toEqual(
        [...runB.manifest.layers, ...app.manifest.layers.slice(2)].map((l) => l.digest),
      );
    });
  });
});
