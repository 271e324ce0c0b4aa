// Runs bench/collector-load.ts as a child process (so the load does not share the measuring
// process's event loop), for bench/collector-throughput.ts and bench/collector-syslog.ts.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root } from './lib.js';

/**
 * `node --import tsx bench/collector-load.ts ...args`; `onStart` runs when it starts sending (its
 * first line). Resolves, once it has exited and `onStart` has settled, with its last line's JSON.
 */
export function runLoad<T = Record<string, number>>(
  args: string[],
  onStart?: () => Promise<void>,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/collector-load.ts'), ...args],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    let started: Promise<void> | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (onStart && !started && out.includes('\n')) started = onStart();
    });
    child.on('exit', async (code) => {
      if (code !== 0) return reject(new Error(`load ${args.join(' ')} exited ${code}`));
      await started;
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as T);
    });
  });
}
