import { EipError } from '../errors.js';
import { blockContains, parseAddressBlock, parseIp } from '../ip.js';
import type { HeldAddress } from '../manager/synced-state.js';
import type { Announcer } from './types.js';
import { ipCommand } from './ip-command.js';

const LOOPBACK = [parseAddressBlock('127.0.0.0/8'), parseAddressBlock('::1')];

export interface LocalAnnouncerOptions {
  /** Run `ip` inside this network namespace (tests). */
  netns?: string;
}

/** True when the kernel already delivers `ip` locally without configuration (127.0.0.0/8, ::1). */
export function isLoopback(ip: string): boolean {
  const v = parseIp(ip);
  return LOOPBACK.some((b) => blockContains(b, v));
}

/**
 * Makes an address bindable on this machine: nothing to do in 127.0.0.0/8; otherwise the address is
 * added to the pool's interface (as a host route, /32 or /128) and removed on withdraw. An address
 * that was already on the interface is left there on withdraw.
 */
export function createLocalAnnouncer(options: LocalAnnouncerOptions = {}): Announcer {
  const added = new Set<string>();
  const prefix = (h: HeldAddress) => `${h.ip}/${h.family === 4 ? 32 : 128}`;
  return {
    async announce(h) {
      if (isLoopback(h.ip)) return;
      if (!h.pool.interface) {
        throw new EipError(
          'SPROUT_ERR_EIP_ANNOUNCE',
          `${h.ip} is outside 127.0.0.0/8, so the pool needs spec.interface to bind it`,
          `Eip/${h.pool.name}`,
        );
      }
      try {
        await ipCommand(['addr', 'add', prefix(h), 'dev', h.pool.interface], options.netns);
        added.add(h.ip);
      } catch (err) {
        if (!/File exists/.test((err as Error).message)) throw err;
      }
    },
    async withdraw(h) {
      if (!added.has(h.ip) || !h.pool.interface) return;
      await ipCommand(['addr', 'del', prefix(h), 'dev', h.pool.interface], options.netns);
      added.delete(h.ip);
    },
    async close() {},
  };
}
