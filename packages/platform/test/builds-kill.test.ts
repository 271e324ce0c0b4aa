// The build history when `sprout dev` (the CLI, a process of its own) is killed with SIGKILL while a
// build of examples/hello (copied) runs: started again on the same data dir it lists that build as
// failed with SPROUT_ERR_PLATFORM_BUILD_INTERRUPTED, with the log it had; a new build succeeds.
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startDevProcess, type DevProcess } from '../src/testing.js';
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

/** `sprout dev` on the copy in a process group of its own; resolved once its API is up. */
async function startDev(): Promise<DevProcess> {
  const dev = await startDevProcess({
    bin: cli,
    cwd: root,
    args: [fnDir, '--data-dir', dataDir, '--no-collector', '--no-eip', '--standby', '0'],
    detached: true,
  });
  children.push(dev.child);
  return dev;
}

/** A GET of the API with the token: its body as it comes (the logs' server-sent events). */
const get = (dev: DevProcess, path: string) =>
  fetch(`${dev.api}${path}`, { headers: { authorization: `Bearer ${dev.token}` } });
const postJson = (dev: DevProcess, path: string, body: unknown) =>
  dev.call(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('the build history after sprout dev is killed mid-build', () => {
  it('lists the killed build as interrupted, with its log; a new build succeeds', async () => {
    const first = await startDev();
    const started = (await postJson(first, '/v1/builds', { function: 'hello' })).body;
    const id = started.id as string;
    // Killed as soon as the log says the build phase started (the phase header comes over SSE).
    const stream = (await get(first, `/v1/builds/${id}/logs`)).body as unknown as AsyncIterable<Uint8Array>;
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
    const list = (await second.call('/v1/builds')).body.builds as Record<string, unknown>[];
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
    const log = await (await get(second, `/v1/builds/${id}/logs`)).text();
    expect(log).toContain('"text":"===> BUILDING"');
    expect(log).toContain('event: end');
    const again = (await postJson(second, '/v1/builds', { function: 'hello' })).body;
    const done = await until(
      'the new build to end',
      async () => {
        const b = (await second.call(`/v1/builds/${String(again.id)}`)).body;
        return b.status === 'running' ? undefined : b;
      },
      180_000,
    );
    expect(done, JSON.stringify(done)).toMatchObject({ status: 'succeeded' });
    expect(((await second.call('/v1/builds')).body.builds as unknown[]).length).toBe(2);
  }, 360_000);
});
