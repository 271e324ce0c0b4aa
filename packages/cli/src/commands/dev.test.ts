import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoDuplicateKeys } from '@sprout/observe/testing';

const bin = fileURLToPath(new URL('../../bin/sprout.js', import.meta.url));
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const env = { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' };
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

const tmp = () => mkdtempSync(join(tmpdir(), 'sprout-cli-dev-'));
const flags = (dataDir: string) => [
  '--port',
  '0',
  '--host',
  '127.0.0.1',
  '--api-port',
  '0',
  '--data-dir',
  dataDir,
  '--standby',
  '0',
];

/** `sprout dev` expected to exit by itself (within 30 s). */
const devSync = (args: string[], { dataDir = tmp(), cwd = root }: { dataDir?: string; cwd?: string } = {}) =>
  spawnSync(process.execPath, [bin, 'dev', ...args, ...flags(dataDir)], {
    encoding: 'utf8',
    env,
    cwd,
    timeout: 30_000,
  });

/** Resolves once the child has exited, with its exit code. */
const exited = async (child: ChildProcess) => child.exitCode ?? ((await once(child, 'exit')) as [number])[0];

/** Starts `sprout dev` and resolves with the gateway and API URLs from its log lines. */
async function dev(
  args: string[],
  { dataDir = tmp(), cwd = root }: { dataDir?: string; cwd?: string } = {},
): Promise<{ child: ChildProcess; url: string; api: string; token: string; logs: string[] }> {
  const child = spawn(process.execPath, [bin, 'dev', ...args, ...flags(dataDir)], { env, cwd });
  children.push(child);
  const logs: string[] = [];
  let url = '';
  let token = '';
  const api = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        const rec = assertNoDuplicateKeys(line) as { msg: string; url?: string; token?: string };
        if (rec.msg === 'serving' && !url) url = rec.url!.replace(/\/[^/]*$/, '');
        if (rec.msg === 'platform API') {
          token = rec.token!;
          resolve(rec.url!);
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`sprout dev exited with ${code}: ${logs.join('\n')}`)));
  });
  return { child, url, api, token, logs };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('sprout dev', () => {
  it('lists every option in --help', () => {
    const r = spawnSync(process.execPath, [bin, 'dev', '--help'], { encoding: 'utf8', env });
    expect(r.status).toBe(0);
    for (const flag of [
      '--port',
      '--host',
      '--api-port',
      '--data-dir',
      '--standby',
      '--no-watch',
      '--fresh',
      '--help',
    ])
      expect(r.stdout).toContain(flag);
  });

  it('serves examples/hello at / from zero, and drains every instance on SIGTERM, exiting 0', async () => {
    const { child, url, api, token } = await dev(['examples/hello']);
    const r = await fetch(`${url}/`);
    expect(await r.text()).toBe('Hello, world!\n');
    expect(r.headers.get('x-sprout-cold-start')).toBe('true');
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const view = (await (await fetch(`${api}/v1/functions/hello`, auth)).json()) as {
      instances: { pid: number }[];
    };
    const pid = view.instances[0]!.pid;
    expect(alive(pid)).toBe(true);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(alive(pid)).toBe(false);
  });

  it('leaves no instance behind when sprout dev itself is killed with SIGKILL', async () => {
    const { child, url, api, token } = await dev(['examples/hello']);
    expect(await (await fetch(`${url}/`)).text()).toBe('Hello, world!\n');
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const view = (await (await fetch(`${api}/v1/functions/hello`, auth)).json()) as {
      instances: { pid: number }[];
    };
    const pid = view.instances[0]!.pid;
    child.kill('SIGKILL');
    // The instance sees its supervisor go (IPC) and drains and exits by itself.
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
  });

  it('exits 1 with the reason when there is nothing to serve, instead of serving nothing', () => {
    const typo = devSync(['exmaples/hello']);
    expect(typo.status, typo.stderr).toBe(1);
    expect(typo.stderr).toContain(
      'error: SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE: nothing to serve: no function loads from exmaples/hello',
    );
    expect(typo.stderr).toContain('SPROUT_ERR_SPEC_NO_FUNCTION: exmaples/hello: no such file or folder');
    // No folder, nothing registered earlier, and an empty folder to run in.
    const empty = devSync([], { cwd: tmp() });
    expect(empty.status, empty.stderr).toBe(1);
    expect(empty.stderr).toMatch(
      /nothing to serve: no folder given, none registered earlier, and \. holds no/,
    );
  });

  it('serves the functions that load and names the broken ones at start', async () => {
    const { url, logs } = await dev(['examples/hello', 'exmaples/other']);
    expect(await (await fetch(`${url}/hello`)).text()).toBe('Hello, world!\n');
    const records = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'error',
          code: 'SPROUT_ERR_SPEC_NO_FUNCTION',
          msg: 'exmaples/other: no such file or folder',
        }),
        expect.objectContaining({
          level: 'warn',
          msg: 'serving 1 of 2 functions; broken: exmaples/other (SPROUT_ERR_SPEC_NO_FUNCTION)',
        }),
      ]),
    );
  });

  it('says it restores what was registered earlier, and --fresh starts clean, saying what it moved', async () => {
    const dataDir = tmp();
    const first = await dev(['examples/hello'], { dataDir });
    expect(await (await fetch(`${first.url}/`)).text()).toBe('Hello, world!\n');
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);

    // No folder: what the data dir holds, said at start.
    const elsewhere = tmp();
    const again = await dev([], { dataDir, cwd: elsewhere });
    expect(again.logs.some((l) => l.includes('restoring 1 function(s) registered earlier'))).toBe(true);
    expect(await (await fetch(`${again.url}/`)).text()).toBe('Hello, world!\n');
    again.child.kill('SIGTERM');
    expect(await exited(again.child)).toBe(0);

    // --fresh: the registry is moved aside, so the empty folder it runs in has nothing to serve.
    const fresh = devSync(['--fresh'], { dataDir, cwd: elsewhere });
    expect(fresh.status, fresh.stderr).toBe(1);
    expect(fresh.stderr).toMatch(
      /--fresh: starting clean; moved [^"]*platform\.db[^"]* from earlier runs to/,
    );
    expect(fresh.stderr).toContain('SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE');
    expect(existsSync(join(dataDir, 'previous', 'platform.db'))).toBe(true);
  });

  it('refuses a bad port with a usage error', () => {
    const r = spawnSync(process.execPath, [bin, 'dev', 'examples/hello', '--port', 'x'], {
      encoding: 'utf8',
      env,
      cwd: root,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--port must be a port/);
  });
});
