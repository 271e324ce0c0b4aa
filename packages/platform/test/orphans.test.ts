import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../cli/bin/sprout.js', import.meta.url));
const hello = fileURLToPath(new URL('../../../examples/hello', import.meta.url));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('instances of a platform that dies', () => {
  it('stop by themselves when sprout dev is killed with SIGKILL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sprout-platform-orphans-'));
    const child = spawn(
      process.execPath,
      [bin, 'dev', hello, '--port', '0', '--host', '127.0.0.1', '--api-port', '0', '--data-dir', dataDir],
      { env: { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' } },
    );
    let url = '';
    const api = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stderr.on('data', (c: Buffer) => {
        buf += c.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const line of lines) {
          const rec = JSON.parse(line) as { msg: string; url?: string };
          if (rec.msg === 'serving' && !url) url = rec.url!;
          if (rec.msg === 'platform API') resolve(rec.url!);
        }
      });
      child.once('exit', (code) => reject(new Error(`sprout dev exited with ${code}`)));
    });
    // Wait for the standby, so the instance runs in one.
    await expect
      .poll(
        async () =>
          ((await (await fetch(`${api}/v1/health`)).json()) as { standbyReady: number }).standbyReady,
        {
          timeout: 20_000,
        },
      )
      .toBe(1);
    expect(await (await fetch(url)).text()).toBe('Hello, world!\n');
    const view = (await (await fetch(`${api}/v1/functions/hello`)).json()) as {
      instances: { pid: number }[];
    };
    const pid = view.instances[0]!.pid;
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
  });
});
