import { Cron } from 'croner';
import type {
  ComponentConfig,
  Delivery,
  InputBindingEngine,
  SubscribeOptions,
  Subscription,
} from '../broker.js';
import { parseDuration } from '@sprout/http';
import { createLogger, type Logger } from '@sprout/observe';
import { TriggersError } from '../errors.js';
import { CronStateFile } from './cron-state.js';
import { Metadata } from './metadata.js';

/**
 * Dapr's `bindings.cron` input: a delivery per tick of `schedule` (Dapr's syntax: six fields with
 * seconds, five without, `@every <duration>`, `@yearly`/`@annually`, `@monthly`, `@weekly`,
 * `@daily`/`@midnight`, `@hourly`, an optional `CRON_TZ=<zone>` or `TZ=<zone>` prefix). Ticks due
 * while maxInFlight are unsettled wait as a count (lag), never as buffered messages; a nacked tick
 * is handed out again after its delay.
 *
 * Restarts, as Dapr's binding (components-contrib `bindings/cron`, an in-memory scheduler) behaves:
 * after a restart the schedule goes on from now, so a tick already fired is never fired again, and
 * ticks that were due while the process was down (or handed out and not acked when it stopped) are
 * not caught up. With a `stateDir` the binding records its last fired tick and its unacked ticks
 * there, so those skipped ticks are counted and logged (`skippedAtStart`) rather than lost
 * silently, and a clock that went back cannot fire a tick at or before one already fired.
 */

/** The next tick strictly after `from`, or undefined when the schedule never fires again. */
export interface Schedule {
  readonly timezone: string;
  next(from: Date): Date | undefined;
}

/** Most skipped ticks counted at a restart (a longer outage reads as "at least this many"). */
const MAX_COUNTED = 10_000;

/** Most ticks kept waiting; older ones are coalesced (a cron consumer wants "it is due", not a backlog). */
const MAX_WAITING = 1000;
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function invalid(schedule: string, why: string): TriggersError {
  return new TriggersError('SPROUT_ERR_TRIGGERS_METADATA_INVALID', `cron schedule "${schedule}" ${why}`, {
    field: 'metadata.schedule',
  });
}

/** Parses a Dapr cron schedule; anything else is SPROUT_ERR_TRIGGERS_METADATA_INVALID. */
export function parseSchedule(schedule: string): Schedule {
  let text = schedule.trim();
  let timezone = 'Local';
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(text);
  if (tz) {
    timezone = tz[1]!;
    text = text.slice(tz[0].length);
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      throw invalid(schedule, `names an unknown time zone "${timezone}"`);
    }
  }
  const every = /^@every\s+(\S+)$/.exec(text);
  if (every) {
    const ms = parseDuration(every[1]!);
    if (ms === undefined || ms < 1) throw invalid(schedule, 'needs a positive duration such as @every 10s');
    return { timezone, next: (from) => new Date(from.getTime() + ms) };
  }
  if (text.startsWith('@') && !MACROS.has(text)) throw invalid(schedule, `uses an unknown macro "${text}"`);
  const fields = text.split(/\s+/).length;
  if (!text.startsWith('@') && fields !== 5 && fields !== 6)
    throw invalid(schedule, 'needs six fields (seconds first), five, or a macro such as @every 10s');
  let cron: Cron;
  try {
    cron = new Cron(text, { paused: true, mode: '5-or-6-parts', ...(tz ? { timezone } : {}) });
  } catch (err) {
    throw invalid(schedule, `is not valid: ${(err as Error).message}`);
  }
  return { timezone, next: (from) => cron.nextRun(from) ?? undefined };
}

export interface CronOptions {
  /** Where the binding's record is kept between runs (`sprout dev`: `<data dir>/triggers/cron`). */
  stateDir?: string;
  logger?: Logger;
}

export class CronBinding implements InputBindingEngine {
  readonly type = 'bindings.cron';
  private readonly reads = new Set<CronRead>();
  readonly schedule: Schedule;
  private readonly text: string;
  /** Set by the first read with a record: the ticks an earlier run left, skipped as Dapr skips them. */
  skippedAtStart: { due: number; unacked: number; since: string } | undefined;
  private state: CronStateFile | undefined;
  private readonly log: Logger;

  constructor(
    readonly config: ComponentConfig,
    private readonly options: CronOptions = {},
  ) {
    const md = new Metadata(config, ['schedule', 'direction', 'route']);
    md.oneOf('direction', ['input'], 'input');
    this.text = md.required('schedule');
    this.schedule = parseSchedule(this.text);
    this.log = (options.logger ?? createLogger({ name: 'triggers' })).child({ binding: config.name });
  }

  async read(options: Omit<SubscribeOptions, 'topic' | 'group'>): Promise<Subscription> {
    const from = this.restore();
    const r = new CronRead(this, options, () => this.reads.delete(r), this.state);
    this.reads.add(r);
    r.arm(from);
    return r;
  }

  /** Where the schedule goes on from: now, or the last fired tick if the clock is behind it. */
  private restore(): Date {
    const now = new Date();
    if (!this.options.stateDir || this.state) return now;
    const state = (this.state = new CronStateFile(this.options.stateDir, this.config.name, this.text));
    const { record, problem } = state.load();
    if (problem) this.log.warn(problem);
    if (!record) return now;
    const last = new Date(record.lastFired);
    let due = 0;
    for (let t = this.schedule.next(last); t && t <= now && due < MAX_COUNTED; t = this.schedule.next(t))
      due++;
    if (due || record.unacked.length) {
      this.skippedAtStart = { due, unacked: record.unacked.length, since: record.lastFired };
      this.log.warn(
        { due, unacked: record.unacked.length, lastFired: record.lastFired },
        `${due} tick(s) came due while the binding was not running and ${record.unacked.length} handed out were not acked; ` +
          "they are skipped, as Dapr's cron binding skips them, and the schedule goes on from now",
      );
    }
    state.clearUnacked();
    return last > now ? last : now;
  }

  async close(): Promise<void> {
    for (const r of [...this.reads]) await r.close();
  }
}

class CronRead implements Subscription {
  private timer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Ticks due and not yet handed out, oldest first (at most MAX_WAITING). */
  private readonly due: Date[] = [];
  private unsettled = 0;
  private closed = false;

  constructor(
    private readonly binding: CronBinding,
    private readonly options: Omit<SubscribeOptions, 'topic' | 'group'>,
    private readonly onClose: () => void,
    private readonly state: CronStateFile | undefined,
  ) {}

  /** Sets the timer for the tick after `from` (timers over ~24 days are chained). */
  arm(from: Date): void {
    if (this.closed) return;
    const at = this.binding.schedule.next(from);
    if (!at) return;
    const wait = Math.min(Math.max(0, at.getTime() - Date.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      if (Date.now() < at.getTime()) return this.arm(from); // a chained long wait
      this.due.push(at);
      this.state?.fire(at);
      if (this.due.length > MAX_WAITING) this.state?.settle(this.due.shift()!);
      this.pump();
      this.arm(at);
    }, wait);
  }

  async lag(): Promise<number> {
    return this.due.length + this.unsettled;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    for (const t of this.timers) clearTimeout(t);
    this.onClose();
  }

  private pump(): void {
    while (!this.closed && this.due.length > 0 && this.unsettled < Math.max(1, this.options.maxInFlight)) {
      const at = this.due.shift()!;
      this.unsettled++;
      this.hand(at, 1);
    }
  }

  private hand(at: Date, attempt: number): void {
    let settled = false;
    const settle = () => {
      if (settled || this.closed) return false;
      settled = true;
      return true;
    };
    const delivery: Delivery = {
      id: at.toISOString(),
      topic: this.binding.config.name,
      data: new Uint8Array(0),
      metadata: { timeZone: this.binding.schedule.timezone, readTimeUTC: new Date().toISOString() },
      attempt,
      ack: async () => {
        if (!settle()) return;
        this.state?.settle(at);
        this.unsettled--;
        this.pump();
      },
      nack: async (delayMs?: number) => {
        if (!settle()) return;
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!this.closed) this.hand(at, attempt + 1); // the slot stays taken meanwhile
        }, delayMs ?? 0);
        this.timers.add(t);
      },
    };
    this.options.onMessage(delivery);
  }
}
