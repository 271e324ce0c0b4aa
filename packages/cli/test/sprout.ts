import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../bin/sprout.js', import.meta.url));
export const root = fileURLToPath(new URL('../../../', import.meta.url));
export const fixtures = fileURLToPath(new URL('../../framework/test/fixtures/', import.meta.url));
const env = { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' };

/** Runs `sprout` to completion from the repository root. */
export const runSprout = (args: string[], extraEnv: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...env, ...extraEnv },
    cwd: root,
    timeout: 20_000,
  });

export interface Served {
  child: ChildProcess;
  url: string;
  logs: string[];
}

/**
 * Starts a serving `sprout` command on a free loopback port and resolves with the base URL from its
 * "serving" log line. Every process started is killed by `killAll()`.
 */
export function serveSprout(args: string[], extraEnv: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [bin, ...args, '--port', '0', '--host', '127.0.0.1'], {
    env: { ...env, ...extraEnv },
    cwd: root,
  });
  started.push(child);
  const logs: string[] = [];
  return new Promise<Served>((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (c: Buffer) => {
      buf += c;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        const m = /"url":"([^"]+)"/.exec(line);
        if (m && line.includes('"serving"')) resolve({ child, url: m[1]!.replace(/\/[^/]*$/, ''), logs });
      }
    });
    child.once('exit', (code) => reject(new Error(`sprout exited with ${code}: ${logs.join('\n')}`)));
  });
}

const started: ChildProcess[] = [];
export function killAll(): void {
  for (const c of started.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
}
