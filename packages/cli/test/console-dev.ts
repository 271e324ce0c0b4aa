// `sprout dev` (or `sprout console`) for the console's browser tests and benchmark: started with an
// admin password and JSON logs, resolved once it printed the console's URL and sign-in link; and
// Debian's Chromium.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { bin, root } from './sprout.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds the console's pages as shipped (dist/web) from web/ when a source changed since the last build. */
export function buildConsoleWeb(): void {
  execFileSync(process.execPath, [join(root, 'packages/console/build-web.mjs')], { stdio: 'inherit' });
}

/** Headless Chromium from the Debian package (never a downloaded browser). */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}

export interface ConsoleDev {
  child: ChildProcess;
  /** The console's origin, no trailing slash. */
  url: string;
  /** The platform API token. */
  token: string;
  signIn: string;
  logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts `sprout dev ARGS --port 0 --api-port 0` with SPROUT_ADMIN_PASSWORD = `password`; with
 * `command: 'console'`, `sprout console ARGS --port 0` (the console alone, as for cluster work).
 * `env` is added to this process's environment.
 */
export function startConsoleDev(
  args: string[],
  password: string,
  o: { command?: 'dev' | 'console'; env?: NodeJS.ProcessEnv } = {},
): Promise<ConsoleDev> {
  const command = o.command ?? 'dev';
  const ports = command === 'dev' ? ['--port', '0', '--api-port', '0'] : ['--port', '0'];
  const child = spawn(process.execPath, [bin, command, ...args, ...ports], {
    cwd: root,
    env: {
      ...process.env,
      ...o.env,
      SPROUT_LOG_FORMAT: 'json',
      NODE_OPTIONS: '',
      SPROUT_ADMIN_PASSWORD: password,
    },
  });
  const logs: string[] = [];
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let buf = '';
    let token = '';
    const onData = (c: Buffer) => {
      buf += c;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (rec.msg === 'platform API') token = String(rec.token);
        if (typeof rec.signIn === 'string')
          resolve({ child, url: String(rec.url).replace(/\/$/, ''), token, signIn: rec.signIn, logs, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`sprout ${command} exited with ${code}:\n${logs.join('\n')}`)),
    );
  });
}
