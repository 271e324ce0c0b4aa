import { PassThrough } from 'node:stream';
import { main } from '../src/main.js';

export interface MainResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process with captured output: `runMain(['eip', 'ls'], { env, cwd })`. */
export async function runMain(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<MainResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(argv, {
    stdout,
    stderr,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  });
  return { code, out, err };
}
