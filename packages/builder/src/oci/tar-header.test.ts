import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BLOCK, encodeHeader, END_OF_ARCHIVE, padding, type TarHeader } from './tar-header.js';

const run = promisify(execFile);

function checksumOk(block: Buffer): boolean {
  const stored = parseInt(block.subarray(148, 156).toString('ascii'), 8);
  const copy = Buffer.from(block);
  copy.write('        ', 148, 8, 'ascii');
  return stored === copy.reduce((a, b) => a + b, 0);
}

describe('tar headers', () => {
  const names = [
    'a',
    'x'.repeat(99),
    'y'.repeat(100),
    'z'.repeat(101),
    `dir/${'w'.repeat(250)}`,
    'ünï/cöde',
    'sp ace',
  ];

  it('GNU tar lists every name exactly, long and non-ASCII ones through PAX', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sprout-builder-tar-'));
    try {
      const parts: Buffer[] = [];
      for (const name of names) {
        const h: TarHeader = {
          name,
          type: 'file',
          mode: 0o640,
          uid: 1000,
          gid: 1000,
          size: 3,
          mtime: 315532801,
        };
        const header = encodeHeader(h);
        expect(header.length % BLOCK).toBe(0);
        expect(checksumOk(header.subarray(header.length - BLOCK))).toBe(true);
        parts.push(header, Buffer.from('abc'), padding(3));
      }
      parts.push(
        encodeHeader({
          name: 'l',
          type: 'symlink',
          mode: 0o777,
          uid: 0,
          gid: 0,
          size: 0,
          mtime: 0,
          linkname: 'q'.repeat(150),
        }),
      );
      parts.push(END_OF_ARCHIVE);
      const file = join(dir, 't.tar');
      await writeFile(file, Buffer.concat(parts));
      const { stdout } = await run('tar', ['-tf', file]);
      expect(stdout.trimEnd().split('\n')).toEqual([...names, 'l']);
      const { stdout: verbose } = await run('tar', ['-tvf', file, '--numeric-owner']);
      expect(verbose.split('\n')[0]).toMatch(/^-rw-r----- 1000\/1000 +3 1980-01-01/);
      expect(verbose).toContain(`l -> ${'q'.repeat(150)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('pads content to whole blocks', () => {
    expect([padding(0).length, padding(1).length, padding(512).length, padding(513).length]).toEqual([
      0, 511, 0, 511,
    ]);
  });
});
