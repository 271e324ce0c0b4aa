import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { resourceUsage } from 'node:process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promisify } from 'node:util';
import { isBuilderError } from '../errors.js';
import { writeLayer } from './layer.js';
import { OciLayout } from './layout.js';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sprout-builder-layer-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function sha256Of(stream: NodeJS.ReadableStream): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

describe('writeLayer', () => {
  it('streams a 128 MiB file: peak memory stays far below its size; digest and diffID are those of the bytes', async () => {
    const big = join(dir, 'big.bin');
    await writeFile(big, '');
    await truncate(big, 128 * 1024 * 1024); // sparse: no disk used, zeros read back
    const layout = await OciLayout.open(join(dir, 'layout'));
    const before = resourceUsage().maxRSS;
    const layer = await writeLayer(layout, [{ from: big, to: '/data/big.bin' }]);
    const grewKiB = resourceUsage().maxRSS - before;
    expect(grewKiB).toBeLessThan(64 * 1024);
    expect(await sha256Of(createReadStream(layout.blobPath(layer.digest)))).toBe(layer.digest);
    expect(await sha256Of(createReadStream(layout.blobPath(layer.digest)).pipe(createGunzip()))).toBe(
      layer.diffId,
    );
  }, 60_000);

  it('refuses a NUL in a path, a path given twice, a missing source and a FIFO', async () => {
    const layout = await OciLayout.open(join(dir, 'refusals'));
    const fifo = join(dir, 'fifo');
    await run('mkfifo', [fifo]);
    const cases = [
      [{ to: '/a\0b', content: 'x' }],
      [
        { to: '/a', content: 'x' },
        { to: 'a', content: 'y' },
      ],
      [{ from: join(dir, 'absent'), to: '/x' }],
      [{ from: fifo, to: '/fifo' }],
    ];
    for (const sources of cases) {
      const err = await writeLayer(layout, sources).catch((e: unknown) => e);
      expect(isBuilderError(err, 'SPROUT_ERR_BUILDER_LAYER_SOURCE'), (err as Error).message).toBe(true);
    }
  });

  it('changes the digest with the owner, the mode or the time, and not otherwise', async () => {
    const layout = await OciLayout.open(join(dir, 'variants'));
    const src = [{ to: '/f', content: 'same' }];
    const digest = async (o: Parameters<typeof writeLayer>[2]) => (await writeLayer(layout, src, o)).digest;
    const base = await digest({});
    expect(await digest({})).toBe(base);
    expect(await digest({ uid: 1000 })).not.toBe(base);
    expect(await digest({ mtime: new Date('2020-01-01T00:00:00Z') })).not.toBe(base);
    expect((await writeLayer(layout, [{ to: '/f', content: 'same', mode: 0o600 }])).digest).not.toBe(base);
  });
});
