import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import { openInputBinding, type Delivery, type InputBindingEngine } from '../src/index.js';
import { waitFor } from './conformance.js';

/**
 * bindings.cron across restarts, with its record in a data dir: a tick already fired is not fired
 * again, and ticks due while it was down are skipped as Dapr's binding skips them, counted and logged.
 */
const dir = mkdtempSync(join(tmpdir(), 'sprout-cron-'));
const log = createLogger({ level: 'silent' });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function open(
  name: string,
  schedule: string,
): Promise<InputBindingEngine & { skippedAtStart?: unknown }> {
  return openInputBinding(
    { name, type: 'bindings.cron', metadata: { schedule } },
    { cron: { stateDir: dir, logger: log } },
  );
}

async function ticks(cron: InputBindingEngine, n: number, ack = true): Promise<Delivery[]> {
  const got: Delivery[] = [];
  const sub = await cron.read({
    maxInFlight: 10,
    onMessage: (d) => {
      got.push(d);
      if (ack) void d.ack();
    },
    onError: () => {},
  });
  await waitFor(() => got.length >= n, `${n} ticks`);
  await sub.close();
  await cron.close();
  return got;
}

const record = (name: string) =>
  JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { lastFired: string; unacked: string[] };

describe('bindings.cron restarts (the record under the data dir)', () => {
  it('never fires a tick at or before the last one fired; ticks due while down are counted as skipped', async () => {
    const first = await ticks(await open('every', '@every 100ms'), 2);
    const last = first.at(-1)!.id;
    expect(record('every').lastFired >= last).toBe(true);
    expect(record('every').unacked).toEqual([]);
    await new Promise((r) => setTimeout(r, 450)); // down for about four ticks
    const again = await open('every', '@every 100ms');
    const second = await ticks(again, 1);
    expect(second.every((d) => d.id > last)).toBe(true);
    const skipped = again.skippedAtStart as { due: number; unacked: number };
    expect(skipped.due).toBeGreaterThanOrEqual(2);
    expect(skipped.unacked).toBe(0);
  });

  it('counts a tick handed out and not acked when it stopped, and forgets it after reporting', async () => {
    await ticks(await open('unacked', '@every 100ms'), 1, false);
    expect(record('unacked').unacked.length).toBeGreaterThanOrEqual(1);
    const again = await open('unacked', '@every 100ms');
    await ticks(again, 1);
    expect((again.skippedAtStart as { unacked: number }).unacked).toBeGreaterThanOrEqual(1);
    expect(record('unacked').unacked).toEqual([]);
  });

  it('starts afresh on a changed schedule or an unreadable record, without failing', async () => {
    await ticks(await open('changed', '@every 100ms'), 1);
    const changed = await open('changed', '@every 150ms');
    await ticks(changed, 1);
    expect(changed.skippedAtStart).toBeUndefined();
    writeFileSync(join(dir, 'broken.json'), '{"schedule": 1');
    const broken = await open('broken', '@every 100ms');
    await ticks(broken, 1);
    expect(broken.skippedAtStart).toBeUndefined();
    expect(record('broken').lastFired).toMatch(/^\d{4}-/);
  });

  it('survives kill -9 of the process that fires: the record is whole, the next run fires after it', async () => {
    const script = join(dir, 'fire.mts');
    const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    writeFileSync(
      script,
      `import { openInputBinding } from ${JSON.stringify(src)};
const cron = await openInputBinding({ name: 'killed', type: 'bindings.cron', metadata: { schedule: '@every 20ms' } }, { cron: { stateDir: ${JSON.stringify(dir)} } });
await cron.read({ maxInFlight: 5, onMessage: (d) => { void d.ack(); }, onError: () => {} });
`,
    );
    const child = spawn(process.execPath, ['--conditions=@sprout/source', '--import', 'tsx', script], {
      stdio: 'ignore',
    });
    await waitFor(
      () => {
        try {
          return Date.parse(record('killed').lastFired) > 0 && record('killed').lastFired !== '';
        } catch {
          return false;
        }
      },
      'the child firing ticks',
      20_000,
    );
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = record('killed').lastFired; // parses: never half written
    const again = await open('killed', '@every 20ms');
    const next = await ticks(again, 1);
    expect(next[0]!.id > before).toBe(true);
  }, 30_000);
});
