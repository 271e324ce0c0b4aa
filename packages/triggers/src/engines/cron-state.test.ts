import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
import { CronStateFile } from './cron-state.js';

const dir = mkdtempSync(join(tmpdir(), 'sprout-cron-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CronStateFile', () => {
  it('round-trips fired and settled ticks; a changed schedule reads as no record', () => {
    const a = new CronStateFile(dir, 'tick', '@every 1s');
    expect(a.load()).toEqual({});
    a.fire(new Date('2026-01-01T00:00:01Z'));
    a.fire(new Date('2026-01-01T00:00:02Z'));
    a.settle(new Date('2026-01-01T00:00:01Z'));
    expect(new CronStateFile(dir, 'tick', '@every 1s').load().record).toEqual({
      schedule: '@every 1s',
      lastFired: '2026-01-01T00:00:02.000Z',
      unacked: ['2026-01-01T00:00:02.000Z'],
    });
    expect(new CronStateFile(dir, 'tick', '@every 2s').load()).toEqual({});
  });

  it('refuses a binding name that would leave the folder', () => {
    expect(() => new CronStateFile(dir, '../x', '@every 1s')).toThrow(/path separator/);
  });

  it('never throws on a damaged record: random bytes and cut records read as a problem or a record (fuzz)', () => {
    const rng = seededRng();
    const good = JSON.stringify({
      schedule: '@every 1s',
      lastFired: '2026-01-01T00:00:02.000Z',
      unacked: [],
    });
    const until = Date.now() + 500;
    let n = 0;
    while (Date.now() < until || n < 50) {
      const text =
        rng.next() < 0.5
          ? rng.bytes(rng.int(0, 200)).toString('latin1')
          : good.slice(0, rng.int(0, good.length)) + rng.bytes(rng.int(0, 4)).toString('latin1');
      writeFileSync(join(dir, 'fuzz.json'), text);
      const out = new CronStateFile(dir, 'fuzz', '@every 1s').load();
      expect(out.record === undefined || out.problem === undefined, `seed ${rng.seed}`).toBe(true);
      if (out.record) expect(Number.isNaN(Date.parse(out.record.lastFired)), `seed ${rng.seed}`).toBe(false);
      n++;
    }
  });
});
