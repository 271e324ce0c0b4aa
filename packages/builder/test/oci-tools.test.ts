import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciLayout, writeDockerArchive, writeImage, writeLayer, type OciImage } from '@sprout/builder';

const run = promisify(execFile);
let work: string;
let src: string;

async function buildInto(dir: string): Promise<OciImage> {
  const layout = await OciLayout.open(dir);
  const app = await writeLayer(layout, [{ from: src, to: '/workspace' }], { uid: 1000, gid: 1001 });
  const extra = await writeLayer(layout, [
    { to: '/etc/greeting', content: 'hello\n' },
    { to: '/tmp', directory: true, mode: 0o1777 },
  ]);
  const image = await writeImage(layout, {
    layers: [
      { layer: extra, createdBy: 'test: etc' },
      { layer: app, createdBy: 'test: app' },
    ],
    config: {
      env: { PATH: '/usr/bin' },
      entrypoint: ['/workspace/run.sh'],
      workingDir: '/workspace',
      user: '1000:1001',
      labels: { a: 'b' },
    },
  });
  await layout.tag(image, 'latest');
  return image;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-builder-oci-'));
  src = join(work, 'src');
  await mkdir(join(src, 'lib', 'deep'), { recursive: true });
  await writeFile(join(src, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(src, 'run.sh'), 0o750);
  await writeFile(join(src, 'lib', 'deep', `${'long-name-'.repeat(12)}.js`), 'x'.repeat(70_000));
  await writeFile(join(src, 'lib', 'ünïcode.txt'), 'u');
  await symlink('deep', join(src, 'lib', 'link'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('OCI layout checked by umoci and skopeo', () => {
  it('the same input gives the same digests twice', async () => {
    const a = await buildInto(join(work, 'a'));
    const b = await buildInto(join(work, 'b'));
    expect(a.descriptor.digest).toBe(b.descriptor.digest);
    expect(a.manifest.layers.map((l) => l.digest)).toEqual(b.manifest.layers.map((l) => l.digest));
    const back = await (await OciLayout.open(join(work, 'a'))).image('latest');
    expect(back.descriptor.digest).toBe(a.descriptor.digest);
    expect(back.config.rootfs.diff_ids).toHaveLength(2);
  });

  it('umoci unpacks it with the modes, owners, long names and links', async () => {
    const bundle = join(work, 'bundle');
    await run('umoci', ['unpack', '--image', `${join(work, 'a')}:latest`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    const runSh = await stat(join(rootfs, 'workspace', 'run.sh'));
    expect([runSh.mode & 0o7777, runSh.uid, runSh.gid]).toEqual([0o750, 1000, 1001]);
    expect((await stat(join(rootfs, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect(await readFile(join(rootfs, 'etc', 'greeting'), 'utf8')).toBe('hello\n');
    const long = join(rootfs, 'workspace', 'lib', 'link', `${'long-name-'.repeat(12)}.js`);
    expect((await readFile(long, 'utf8')).length).toBe(70_000);
    expect(await readFile(join(rootfs, 'workspace', 'lib', 'ünïcode.txt'), 'utf8')).toBe('u');
    const config = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as {
      process: { user: { uid: number }; args: string[]; cwd: string };
    };
    expect([config.process.user.uid, config.process.args, config.process.cwd]).toEqual([
      1000,
      ['/workspace/run.sh'],
      '/workspace',
    ]);
  });

  it('skopeo inspects it and copies it to a docker archive; ours is read back by skopeo too', async () => {
    const image = await buildInto(join(work, 'a'));
    const { stdout } = await run('skopeo', ['inspect', `oci:${join(work, 'a')}:latest`]);
    const inspected = JSON.parse(stdout) as {
      Digest: string;
      Layers: string[];
      Labels: Record<string, string>;
    };
    expect(inspected.Digest).toBe(image.descriptor.digest);
    expect(inspected.Layers).toEqual(image.manifest.layers.map((l) => l.digest));
    expect(inspected.Labels).toEqual({ a: 'b' });
    await run('skopeo', [
      'copy',
      `oci:${join(work, 'a')}:latest`,
      `docker-archive:${join(work, 'skopeo.tar')}:example.com/app:1`,
    ]);
    const ours = join(work, 'ours.tar');
    await writeDockerArchive(await OciLayout.open(join(work, 'a')), image, ours, ['example.com/app:1']);
    await run('skopeo', ['copy', `docker-archive:${ours}`, `oci:${join(work, 'from-archive')}:x`]);
    const back = await (await OciLayout.open(join(work, 'from-archive'))).image('x');
    expect(back.config.rootfs.diff_ids).toEqual(image.config.rootfs.diff_ids);
    const { stdout: tarList } = await run('tar', ['-tf', ours]);
    expect(tarList.split('\n')).toContain('manifest.json');
  });
});
