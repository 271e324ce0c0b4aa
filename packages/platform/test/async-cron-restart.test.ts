// bindings.cron across a `sprout dev` restart (examples/order-pipeline's report function, @every 2s):
// the binding's record under the data dir (triggers/cron/<function>/<binding>.json), and after sprout dev was killed -9 and started again the
// ticks due meanwhile skipped as Dapr's binding skips them, with a warning that counts them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanUp, pipelineCopy, startSproutDev, stop, until, type RunningDev } from './async-dev.js';

const { dir, stream } = pipelineCopy('cron-restart');
const running: RunningDev[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await stop(d.child, 'SIGKILL');
});
afterAll(async () => {
  await cleanUp(dir, stream);
});

const record = (dataDir: string): { lastFired: string; unacked: string[] } | undefined => {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'triggers', 'cron', 'report', 'every-2s.json'), 'utf8'));
  } catch {
    return undefined;
  }
};

describe('bindings.cron in sprout dev across a restart', () => {
  it('keeps the last fired tick under the data dir; after kill -9 the missed ticks are counted, not fired', async () => {
    const dataDir = join(dir, 'data');
    const first = await startSproutDev(dir, dataDir);
    running.push(first);
    const fired = await until('a tick recorded', () => record(dataDir)?.lastFired, 30_000);
    await stop(first.child, 'SIGKILL');
    const before = record(dataDir)!.lastFired;
    expect(before >= fired).toBe(true);
    await new Promise((r) => setTimeout(r, 4500)); // two ticks or more come due while it is down
    const second = await startSproutDev(dir, dataDir);
    running.push(second);
    const warning = await until(
      'the skipped ticks reported',
      () => second.lines.find((l) => String(l.msg).includes("as Dapr's cron binding skips them")),
      30_000,
    );
    expect(warning).toMatchObject({ binding: 'every-2s', lastFired: before });
    expect(warning.due as number).toBeGreaterThanOrEqual(2);
    // The schedule goes on from the restart: the next tick fired is after the last one of the first run.
    const after = await until(
      'a tick fired by the second run',
      () => {
        const r = record(dataDir);
        return r && r.lastFired > before ? r.lastFired : undefined;
      },
      30_000,
    );
    expect(Date.parse(after) - Date.parse(before)).toBeGreaterThanOrEqual(4000);
    await stop(second.child);
  }, 120_000);
});
