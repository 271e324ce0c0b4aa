import { createLogger, type Logger } from '@sprout/observe';
import { EipError } from '../errors.js';
import type { EipManager } from '../manager.js';
import type { HeldAddress } from '../manager/synced-state.js';
import type { Pool } from '../spec.js';
import type { Announcer } from './types.js';

export interface AnnouncingOptions {
  /** One announcer per pool protocol; a pool whose protocol has none is reported and skipped. */
  announcers: Partial<Record<Pool['protocol'], Announcer>>;
  /** How often to look for changes made by other processes (ms); default 200. */
  pollMs?: number;
  logger?: Logger;
}

export interface Announcing {
  /** Addresses announced right now. */
  announced(): string[];
  /** Resolves once everything held at the time of the call is announced (or failed and logged). */
  settled(): Promise<void>;
  /** Withdraws everything and closes the announcers. */
  close(): Promise<void>;
}

/**
 * Keeps announcers in step with the manager: announces addresses as they are allocated and
 * withdraws them on release, in this process (events) and from other processes (polling the store).
 * A failed announcement is logged and retried with backoff (1 s, doubling up to 60 s).
 */
export function startAnnouncing(manager: EipManager, options: AnnouncingOptions): Announcing {
  const log = options.logger ?? createLogger({ name: 'eip-announce' });
  const current = new Map<string, HeldAddress>();
  const reported = new Set<string>();
  let chain = Promise.resolve();
  let closed = false;
  /** Addresses whose announcement failed: not retried before `until`. */
  const blocked = new Map<string, { until: number; backoff: number }>();

  const announcerFor = (h: HeldAddress): Announcer | undefined => {
    const a = options.announcers[h.pool.protocol];
    if (!a && !reported.has(h.pool.name)) {
      reported.add(h.pool.name);
      log.error(
        { code: 'SPROUT_ERR_EIP_ANNOUNCE', pool: h.pool.name },
        `no ${h.pool.protocol} announcer is running; Eip/${h.pool.name}'s addresses are allocated but not announced`,
      );
    }
    return a;
  };

  const pass = async () => {
    const target = new Map(closed ? [] : manager.held().map((h) => [h.ip, h]));
    for (const [ip, h] of current) {
      if (target.get(ip)?.pool.protocol === h.pool.protocol) continue;
      try {
        await announcerFor(h)?.withdraw(h);
        current.delete(ip);
        log.info({ ip, pool: h.pool.name }, 'withdrawn');
      } catch (err) {
        log.error({ err, ip }, 'withdraw failed; will retry');
      }
    }
    for (const [ip, h] of target) {
      if (current.has(ip) || (blocked.get(ip)?.until ?? 0) > Date.now()) continue;
      const a = announcerFor(h);
      if (!a) continue;
      try {
        await a.announce(h);
        current.set(ip, h);
        blocked.delete(ip);
        log.info({ ip, pool: h.pool.name, protocol: h.pool.protocol, services: h.services }, 'announced');
      } catch (err) {
        const e = err instanceof EipError ? { code: err.code, error: err.message } : { err };
        const prev = blocked.get(ip);
        const backoff = prev ? Math.min(prev.backoff * 2, 60_000) : 1000;
        blocked.set(ip, { until: Date.now() + backoff, backoff });
        log.error({ ...e, ip, retryInMs: backoff }, 'announce failed; will retry');
      }
    }
    for (const ip of blocked.keys()) if (!target.has(ip)) blocked.delete(ip);
  };
  const schedule = () => (chain = chain.then(pass, pass));
  const onChange = () => void schedule();
  manager.on('change', onChange);
  const timer = setInterval(() => {
    // refresh() emits 'change' itself; failures are retried with backoff.
    const due = [...blocked.values()].some((b) => b.until <= Date.now());
    if (!manager.refresh() && due) void schedule();
  }, options.pollMs ?? 200);
  timer.unref();
  void schedule();

  return {
    announced: () => [...current.keys()].sort(),
    settled: () => schedule(),
    async close() {
      closed = true;
      clearInterval(timer);
      manager.off('change', onChange);
      await schedule();
      for (const a of new Set(Object.values(options.announcers))) await a?.close();
    },
  };
}
