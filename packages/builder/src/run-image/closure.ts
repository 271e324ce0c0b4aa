import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BuilderError } from '../errors.js';

const run = promisify(execFile);

/**
 * The shared libraries `binary` loads, as `ldd` lists them (the dynamic loader included), sorted;
 * empty for a static binary. A library `ldd` cannot find is refused.
 */
export async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('ldd', [binary], { env: { ...process.env, LC_ALL: 'C' } }));
  } catch (err) {
    const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(out)) return [];
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_RUN_IMAGE_FAILED',
      `ldd ${binary} failed (${(err as Error).message.split('\n')[0]}); install libc-bin or pass --run-image`,
      { field: 'runImage' },
    );
  }
  return parseLdd(stdout, binary);
}

/** The library paths in `ldd` output. */
export function parseLdd(stdout: string, binary = 'the binary'): string[] {
  const libs = new Set<string>();
  for (const line of stdout.split('\n')) {
    const missing = /^\s*(\S+) => not found/.exec(line);
    if (missing)
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_RUN_IMAGE_FAILED',
        `${binary} needs ${missing[1]}, which ldd cannot find; install it or pass --run-image`,
        {
          field: 'runImage',
        },
      );
    const path = /=>\s*(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(0x/.exec(line)?.[1];
    if (path) libs.add(path);
  }
  return [...libs].sort();
}
