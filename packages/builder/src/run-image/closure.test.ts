import { describe, expect, it } from 'vitest';
import { parseLdd, sharedLibraries } from './closure.js';

describe('ldd output', () => {
  it('lists the libraries and the loader, sorted, without the vDSO', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f)',
    ].join('\n');
    expect(parseLdd(out)).toEqual([
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('refuses a library ldd cannot find', () => {
    expect(() => parseLdd('\tlibfoo.so.1 => not found\n')).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_BUILDER_RUN_IMAGE_FAILED' }),
    );
  });

  it('finds the closure of the running node, the C library among it', async () => {
    const libs = await sharedLibraries(process.execPath);
    expect(libs.some((l) => /\/libc\.so/.test(l))).toBe(true);
  });
});
