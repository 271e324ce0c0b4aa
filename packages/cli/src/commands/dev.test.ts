import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/sprout.js', import.meta.url));
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const env = { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' };
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts `sprout dev` and resolves with the gateway and API URLs from its log lines. */
async function dev(
  args: string[],
): Promise<{ child: ChildProcess; url: string; api: string; logs: string[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sprout-cli-dev-'));
  const child = spawn(
    process.execPath,
    [bin, 'dev', ...args, '--port', '0', '--host', '127.0.0.1', '--api-port', '0', '--data-dir', dataDir],
    { env, cwd: root },
  );
  children.push(child);
  const logs: string[] = [];
  let url = '';
  const api = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        const rec = JSON.parse(line) as { msg: string; url?: string };
        if (rec.msg === 'serving' && !url) url = rec.url!.replace(/\/[^/]*$/, '');
        if (rec.msg === 'platform API') resolve(rec.url!);
      }
    });
    child.once('exit', (code) => reject(new Error(`sprout dev exited with ${code}: ${logs.join('\n')}`)));
  });
  return { child, url, api, logs };
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
    for (const flag of ['--port', '--host', '--api-port', '--data-dir', '--standby', '--no-watch', '--help'])
      expect(r.stdout).toContain(flag);
  });

  it('serves examples/hello at / from zero, and drains every instance on SIGTERM, exiting 0', async () => {
    const { child, url, api } = await dev(['examples/hello']);
    const r = await fetch(`${url}/`);
    expect(await r.text()).toBe('Hello, world!\n');
    expect(r.headers.get('x-sprout-cold-start')).toBe('true');
    const view = (await (await fetch(`${api}/v1/functions/hello`)).json()) as {
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
    const { child, url, api } = await dev(['examples/hello']);
    expect(await (await fetch(`${url}/`)).text()).toBe('Hello, world!\n');
    const view = (await (await fetch(`${api}/v1/functions/hello`)).json()) as {
      instances: { pid: number }[];
    };
    const pid = view.instances[0]!.pid;
    child.kill('SIGKILL');
    // The instance sees its supervisor go (IPC) and drains and exits by itself.
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
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
