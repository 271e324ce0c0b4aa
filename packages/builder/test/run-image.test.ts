import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleRunImage, NODE_PATH_IN_IMAGE, OciLayout, type RunImage } from '@sprout/builder';

const run = promisify(execFile);
let work: string;
let first: RunImage;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-builder-run-'));
  first = await assembleRunImage(await OciLayout.open(join(work, 'a')));
  await (await OciLayout.open(join(work, 'a'))).tag(first.image, 'run');
}, 120_000);
afterAll(() => rm(work, { recursive: true, force: true }));

describe('the default run image (local node + its ldd closure)', () => {
  it('is reproducible: another layout gets the same digest; the same layout reuses it', async () => {
    const other = await assembleRunImage(await OciLayout.open(join(work, 'b')));
    expect(other.image.descriptor.digest).toBe(first.image.descriptor.digest);
    const again = await assembleRunImage(await OciLayout.open(join(work, 'a')));
    expect(again.image.descriptor.digest).toBe(first.image.descriptor.digest);
    expect([first.uid, first.gid, first.image.config.config?.User]).toEqual([1000, 1000, '1000:1000']);
  }, 120_000);

  it('umoci unpacks it and node, chrooted into the rootfs as uid 1000, serves and answers HTTP', async () => {
    const bundle = join(work, 'bundle');
    await run('umoci', ['unpack', '--image', `${join(work, 'a')}:run`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    expect((await stat(join(rootfs, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect(await readFile(join(rootfs, 'etc', 'passwd'), 'utf8')).toContain('cnb:x:1000:1000:');
    expect((await stat(join(rootfs, 'etc/ssl/certs/ca-certificates.crt'))).size).toBeGreaterThan(10_000);
    const script = `
      const http = require('node:http');
      const s = http.createServer((q, r) => r.end('uid ' + process.getuid() + ' ' + process.version));
      s.listen(0, '127.0.0.1', async () => {
        const res = await fetch('http://localhost:' + s.address().port + '/');
        console.log(await res.text(), require('node:tls').rootCertificates.length > 0);
        s.close();
      });`;
    const { stdout } = await run(
      'chroot',
      ['--userspec=1000:1000', rootfs, NODE_PATH_IN_IMAGE, '-e', script],
      { env: { PATH: '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' }, timeout: 30_000 },
    );
    expect(stdout.trim()).toBe(`uid 1000 ${process.version} true`);
  }, 120_000);
});
