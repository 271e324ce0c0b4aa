import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LIFECYCLE_METADATA,
  OciLayout,
  pushImage,
  writeImage,
  writeLayer,
  type OciImage,
} from '@sprout/builder';
import { startRegistry, type Registry } from '@sprout/builder/testing';
import { runMain } from '../../test/main-io.js';

const run = promisify(execFile);
let work: string;
let registry: Registry;
let runB: OciImage;
let app: OciImage;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-cli-rebase-'));
  registry = await startRegistry();
  const layout = await OciLayout.open(join(work, 'images'));
  const base = async (name: string) =>
    writeImage(layout, {
      layers: [{ layer: await writeLayer(layout, [{ to: `/etc/${name}`, content: name }]) }],
    });
  const runA = await base('a');
  runB = await base('b');
  const appLayer = await writeLayer(layout, [{ to: '/workspace/app.js', content: '1' }]);
  const meta = { runImage: { topLayer: runA.config.rootfs.diff_ids[0], reference: runA.descriptor.digest } };
  app = await writeImage(layout, {
    base: runA,
    layers: [{ layer: appLayer }],
    config: { labels: { [LIFECYCLE_METADATA]: JSON.stringify(meta) } },
  });
  await pushImage(layout, app, `${registry.host}/team/app:1`, { plainHttp: true });
  await pushImage(layout, runB, `${registry.host}/base/run:b`, { plainHttp: true });
});
afterAll(async () => {
  await registry.close();
  await rm(work, { recursive: true, force: true });
});

describe('sprout rebase', () => {
  it('--help names the options; IMAGE and --run-image are required', async () => {
    const help = await runMain(['rebase', '--help']);
    for (const flag of ['--run-image', '--tag', '--plain-http', '--registry-ca'])
      expect(help.out).toContain(flag);
    expect((await runMain(['rebase', '--run-image', 'x/y:1'])).code).toBe(2);
    const noRun = await runMain(['rebase', 'x/y:1']);
    expect([noRun.code, noRun.err.includes('--run-image')]).toEqual([2, true]);
  });

  it('rebases an image in the registry: run layers swapped, the app layer kept, skopeo sees it', async () => {
    const target = `${registry.host}/team/app:rebased`;
    const r = await runMain(
      [
        'rebase',
        `${registry.host}/team/app:1`,
        '--run-image',
        `${registry.host}/base/run:b`,
        '--tag',
        target,
        '--plain-http',
        '--data-dir',
        work,
      ],
      { cwd: work },
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('1 app layers kept, 1 run layers mounted');
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${target}`]);
    const inspected = JSON.parse(stdout) as { Layers: string[]; Labels: Record<string, string> };
    expect(inspected.Layers).toEqual([runB.manifest.layers[0]!.digest, app.manifest.layers[1]!.digest]);
    const meta = JSON.parse(inspected.Labels[LIFECYCLE_METADATA]!) as { runImage: { topLayer: string } };
    expect(meta.runImage.topLayer).toBe(runB.config.rootfs.diff_ids[0]);
  });

  it('--creds logs in to a registry with htpasswd users; a wrong password is refused with its code', async () => {
    const secured = await startRegistry({ users: { carol: 'pw' } });
    try {
      const layout = await OciLayout.open(join(work, 'images'));
      const opts = { plainHttp: true, credentials: { username: 'carol', password: 'pw' } };
      await pushImage(layout, app, `${secured.host}/team/app:1`, opts);
      await pushImage(layout, runB, `${secured.host}/base/run:b`, opts);
      const args = [
        'rebase',
        `${secured.host}/team/app:1`,
        '--run-image',
        `${secured.host}/base/run:b`,
        '--plain-http',
        '--data-dir',
        work,
      ];
      const wrong = await runMain([...args, '--creds', 'carol:nope'], { cwd: work });
      expect(wrong.err).toContain('SPROUT_ERR_BUILDER_REGISTRY_UNAUTHORIZED');
      expect((await runMain([...args, '--creds', 'carol'], { cwd: work })).err).toContain('USER:PASSWORD');
      const ok = await runMain([...args, '--creds', 'carol:pw'], { cwd: work });
      expect([ok.code, ok.err]).toEqual([0, '']);
    } finally {
      await secured.close();
    }
  });

  it('an image without buildpacks metadata is refused with its code', async () => {
    const r = await runMain(
      [
        'rebase',
        `${registry.host}/base/run:b`,
        '--run-image',
        `${registry.host}/base/run:b`,
        '--plain-http',
        '--data-dir',
        work,
      ],
      { cwd: work },
    );
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('SPROUT_ERR_BUILDER_REBASE_UNSUPPORTED');
  });
});
