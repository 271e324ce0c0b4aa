// `@sprout/builder/testing`: run an unpacked image's process in tests, as a container runtime would.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@sprout/http/testing';

interface RuntimeSpec {
  process: { args: string[]; env: string[]; cwd: string; user: { uid: number; gid: number } };
}

/**
 * Starts the process of an image unpacked by `umoci unpack` (a runtime bundle): its root file
 * system as root (`unshare --root`), its working directory, uid/gid, environment and arguments from
 * the bundle's config.json, with `extraEnv` added (e.g. PORT); `args` replaces the image's
 * entrypoint and command (e.g. `/cnb/process/worker`). Needs root or user namespaces.
 */
export async function runBundleProcess(
  bundle: string,
  extraEnv: Record<string, string> = {},
  options: { args?: string[] } = {},
): Promise<ChildProcess> {
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as RuntimeSpec;
  const env = Object.fromEntries(
    spec.process.env.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const { uid, gid } = spec.process.user;
  return spawn(
    'unshare',
    [
      `--root=${join(bundle, 'rootfs')}`,
      `--wd=${spec.process.cwd}`,
      '--setgid',
      String(gid),
      '--setuid',
      String(uid),
      '--',
      ...(options.args ?? spec.process.args),
    ],
    { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** GETs `url` until the starting process answers; throws with its output if it exits or never answers (10 s). */
export async function getWhenUp(url: string, child: ChildProcess): Promise<string> {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`the process exited with ${child.exitCode}: ${output}`);
    try {
      return await (await fetch(url)).text();
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`no answer from ${url}: ${output}`);
}

/** Runs the bundle's process with a free PORT, GETs `path` from it once it is up, kills it; the answer. */
export async function bundleAnswer(
  bundle: string,
  path = '/',
  extraEnv: Record<string, string> = {},
): Promise<string> {
  const port = await freePort();
  const child = await runBundleProcess(bundle, { ...extraEnv, PORT: String(port) });
  try {
    return await getWhenUp(`http://127.0.0.1:${port}${path}`, child);
  } finally {
    child.kill('SIGKILL');
  }
}

export {
  makePki,
  startRegistry,
  startTokenServer,
  type Pki,
  type Registry,
  type RegistryOptions,
} from './registry/test-registry.js';
