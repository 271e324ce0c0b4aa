import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTriggersError } from '../errors.js';
import { parseSchedule } from './cron.js';

const from = new Date('2026-03-14T10:20:07.000Z');
const next = (s: string) => parseSchedule(s).next(from)?.toISOString();

describe('parseSchedule (Dapr cron syntax)', () => {
  it.each([
    ['CRON_TZ=UTC */15 * * * * *', '2026-03-14T10:20:15.000Z'],
    ['CRON_TZ=UTC 0 30 * * * *', '2026-03-14T10:30:00.000Z'],
    ['CRON_TZ=UTC 0 0 9 * * MON-FRI', '2026-03-16T09:00:00.000Z'],
    ['CRON_TZ=UTC 30 * * * *', '2026-03-14T10:30:00.000Z'],
    ['TZ=UTC @daily', '2026-03-15T00:00:00.000Z'],
    ['TZ=UTC @midnight', '2026-03-15T00:00:00.000Z'],
    ['TZ=UTC @hourly', '2026-03-14T11:00:00.000Z'],
    ['TZ=UTC @weekly', '2026-03-15T00:00:00.000Z'],
    ['TZ=UTC @monthly', '2026-04-01T00:00:00.000Z'],
    ['TZ=UTC @yearly', '2027-01-01T00:00:00.000Z'],
    ['TZ=UTC @annually', '2027-01-01T00:00:00.000Z'],
    ['CRON_TZ=Asia/Tokyo 0 0 0 * * *', '2026-03-14T15:00:00.000Z'],
    ['@every 10s', '2026-03-14T10:20:17.000Z'],
    ['@every 1m30s', '2026-03-14T10:21:37.000Z'],
    ['@every 250ms', '2026-03-14T10:20:07.250Z'],
  ])('%s fires next at %s', (schedule, expected) => {
    expect(next(schedule)).toBe(expected);
  });

  it.each([
    [''],
    ['* * * *'],
    ['* * * * * * * *'],
    ['61 * * * * *'],
    ['@every'],
    ['@every soon'],
    ['@every 0s'],
    ['@fortnightly'],
    ['CRON_TZ=Mars/Olympus * * * * * *'],
  ])('refuses %j with a coded error naming the field', (schedule) => {
    let err: unknown;
    try {
      parseSchedule(schedule);
    } catch (e) {
      err = e;
    }
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID')).toBe(true);
    expect((err as { field: string }).field).toBe('metadata.schedule');
  });

  it('fuzz: random text and mangled schedules either parse to a future tick or fail with the code', () => {
    const seeds = ['*/5 * * * * *', '@every 10s', 'CRON_TZ=UTC 0 0 * * * *', '0 30 9 * * MON-FRI', '@daily'];
    const alphabet = '0123456789*/,-@ #?LW$%TZCRON=eyvrsmhdaiwMONFRI\t';
    const until = Date.now() + 1500;
    let parsed = 0;
    let refused = 0;
    for (let i = 0; Date.now() < until; i++) {
      let s: string;
      if (i % 3 === 0) s = randomBytes(1 + (i % 40)).toString('latin1');
      else {
        const seed = seeds[i % seeds.length]!;
        const chars = [...seed];
        for (let k = 0; k < 1 + (i % 4); k++)
          chars.splice(Math.floor(Math.random() * (chars.length + 1)), i % 2, alphabet[i % alphabet.length]!);
        s = chars.join('');
      }
      try {
        const sched = parseSchedule(s);
        const n = sched.next(from);
        if (n !== undefined) expect(n.getTime(), s).toBeGreaterThan(from.getTime());
        parsed++;
      } catch (err) {
        expect(
          isTriggersError(err, 'SPROUT_ERR_TRIGGERS_METADATA_INVALID'),
          `${JSON.stringify(s)}: ${String(err)}`,
        ).toBe(true);
        refused++;
      }
    }
    expect(parsed).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
