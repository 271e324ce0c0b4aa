import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { safeSegment } from '@sprout/http';

/** What a cron binding keeps between runs: the last tick it fired and the ticks handed out but not acked. */
export interface CronRecord {
  /** The schedule the record was made under (a changed schedule starts afresh). */
  readonly schedule: string;
  /** The newest tick fired (ISO time). */
  readonly lastFired: string;
  /** Ticks handed out and not yet acked (ISO times, oldest first). */
  readonly unacked: readonly string[];
}

/** Most unacked ticks kept in the record (a cron consumer that is that far behind is down). */
const MAX_UNACKED = 100;

/**
 * One binding's record in `<dir>/<binding>.json`, written whole to a temporary file and renamed, so
 * a process killed while writing leaves the previous record, never half of one.
 */
export class CronStateFile {
  private readonly file: string;
  private fired: string | undefined;
  private readonly unacked: string[] = [];

  constructor(
    dir: string,
    binding: string,
    private readonly schedule: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${safeSegment(binding, 'cron binding name')}.json`);
  }

  /** The record an earlier run left for this schedule; undefined when there is none, it is unreadable, or the schedule changed. */
  load(): { record?: CronRecord; problem?: string } {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return {};
    }
    try {
      const r = JSON.parse(text) as Partial<CronRecord>;
      if (
        typeof r.schedule !== 'string' ||
        typeof r.lastFired !== 'string' ||
        Number.isNaN(Date.parse(r.lastFired)) ||
        !Array.isArray(r.unacked) ||
        !r.unacked.every((u) => typeof u === 'string' && !Number.isNaN(Date.parse(u)))
      )
        return { problem: `${this.file} is not a cron record; starting afresh` };
      if (r.schedule !== this.schedule) return {};
      this.fired = r.lastFired;
      this.unacked.push(...r.unacked.slice(-MAX_UNACKED));
      return { record: r as CronRecord };
    } catch {
      return { problem: `${this.file} does not parse; starting afresh` };
    }
  }

  /** A tick fired and was handed out. */
  fire(at: Date): void {
    this.fired = at.toISOString();
    this.unacked.push(this.fired);
    if (this.unacked.length > MAX_UNACKED) this.unacked.shift();
    this.save();
  }

  /** A tick was acked (or, coalesced, never handed out). */
  settle(at: Date): void {
    const i = this.unacked.indexOf(at.toISOString());
    if (i < 0) return;
    this.unacked.splice(i, 1);
    this.save();
  }

  /** Forgets unacked ticks of an earlier run (they were reported; the schedule goes on). */
  clearUnacked(): void {
    if (!this.unacked.length) return;
    this.unacked.length = 0;
    this.save();
  }

  private save(): void {
    const record: CronRecord = { schedule: this.schedule, lastFired: this.fired!, unacked: this.unacked };
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record));
    renameSync(tmp, this.file);
  }
}
