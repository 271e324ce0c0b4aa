// The build history when `sprout dev` (the CLI, a process of its own) is killed with SIGKILL while a
// build of examples/hello (copied) runs: started again on the same data dir it lists that build as
// failed with SPROUT_ERR_PLATFORM_BUILD_INTERRUPTED, with the log it had; a new build succeeds.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'packages/cli/bin/sprout.js');
const work = mkdtempSync(join(tmpdir(), 'sprout-builds-kill-'));
const fnDir = join(work, 'hello');
const dataDir = join(work, 'data');
cpSync(join(root, 'examples/hello'), fnDir, { recursive: true });
const children: ChildProcess[] = [];

/** Kills the process group of a `sprout dev` started here (the builder's npm and tsc with it). */
const killGroup = (child: ChildProcess) => {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    /* gone */
  }
};
afterAll(() => {
  for (const c of children) killGroup(c);
  rmSync(work, { recursive: true, force: true });
});

interface Dev {
  child: ChildProcess;
  call(path: string, init?: RequestInit): Promise<Record<string, unknown>>;
  /** The body of a GET as text (the logs' server-sent events). */
  text(path: string): Promise<string>;
  /** The body of a GET as it comes. */
  stream(path: string): Promise<AsyncIterable<Uint8Array>>;
}

/** Starts `sprout dev` on the copy in a process group of its own; resolves once its API is up. */
function startDev(): Promise<Dev> {
  const child = spawn(
    process.execPath,
    [
      cli,
      'dev',
      fnDir,
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--api-port',
      '0',
      '--host',
      '127.0.0.1',
      '--no-watch',
      '--no-collector',
      '--no-eip',
      '--standby',
      '0',
    ],
    { cwd: root, detached: true, env: { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' } },
  );
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const l = JSON.parse(line) as { msg?: string; url?: string; token?: string };
        if (l.msg !== 'platform API') continue;
        resolve({
          child,
          async call(path, init = {}) {
            const r = await fetch(`${l.url}${path}`, {
              ...init,
              headers: {
                ...(init.headers as Record<string, string>),
                authorization: `Bearer ${l.token}`,
                'content-type': 'application/json',
              },
            });
            return (await r.json()) as Record<string, unknown>;
          },
          async stream(path) {
            const r = await fetch(`${l.url}${path}`, { headers: { authorization: `Bearer ${l.token}` } });
            return r.body as unknown as AsyncIterable<Uint8Array>;
          },
          async text(path) {
            return (
              await fetch(`${l.url}${path}`, { headers: { authorization: `Bearer ${l.token}` } })
            ).text();
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`sprout dev exited with ${code}: ${out}`)));
  });
}

describe('the build history after sprout dev is killed mid-build', () => {
  it('lists the killed build as interrupted, with its log; a new build succeeds', async () => {
    const first = await startDev();
    const started = await first.call('/v1/builds', {
      method: 'POST',
      body: JSON.stringify({ function: 'hello' }),
    });
    const id = started.id as string;
    // Killed as soon as the log says the build phase started (the phase header comes over SSE).
    const stream = await first.stream(`/v1/builds/${id}/logs`);
    let seen = '';
    for await (const chunk of stream) {
      seen += Buffer.from(chunk).toString();
      if (seen.includes('"name":"build"') || seen.includes('event: end')) break;
    }
    expect(seen).toContain('event: phase\ndata: {"name":"build"');
    const exited = new Promise((r) => first.child.once('exit', r));
    killGroup(first.child);
    await exited;

    const second = await startDev();
    const list = (await second.call('/v1/builds')).builds as Record<string, unknown>[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id,
      status: 'failed',
      error: { code: 'SPROUT_ERR_PLATFORM_BUILD_INTERRUPTED' },
    });
    expect(list[0]!.phase).toBeUndefined();
    // The phases it had reached (it may be past the build phase by the time the kill lands).
    expect((list[0]!.phases as { name: string }[]).map((p) => p.name).slice(0, 4)).toEqual([
      'analyze',
      'detect',
      'restore',
      'build',
    ]);
    const log = await second.text(`/v1/builds/${id}/logs`);
    expect(log).toContain('"text":"===> BUILDING"');
    expect(log).toContain('event: end');
    const again = await second.call('/v1/builds', {
      method: 'POST',
      body: JSON.stringify({ function: 'hello' }),
    });
    const done = await until(
      'the new build to end',
      async () => {
        const b = await second.call(`/v1/builds/${String(again.id)}`);
        return b.status === 'running' ? undefined : b;
      },
      180_000,
    );
    expect(done, JSON.stringify(done)).toMatchObject({ status: 'succeeded' });
    expect(((await second.call('/v1/builds')).builds as unknown[]).length).toBe(2);
  }, 360_000);
});
