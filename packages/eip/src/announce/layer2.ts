import { execFile } from 'node:child_process';
import type { Logger } from '@sprout/observe';
import { EipError } from '../errors.js';
import type { Announcer } from './types.js';
import { createLocalAnnouncer } from './local.js';

export interface Layer2AnnouncerOptions {
  /** Run `ip` and `arping` inside this network namespace (tests). */
  netns?: string;
  /** Gratuitous ARPs per announcement, one a second; default 3. */
  count?: number;
  logger?: Logger;
}

function arping(iface: string, ip: string, netns?: string): Promise<void> {
  const args = ['-U', '-c', '1', '-I', iface, ip];
  const [cmd, full] = netns ? ['ip', ['netns', 'exec', netns, 'arping', ...args]] : ['arping', args];
  return new Promise((resolve, reject) =>
    execFile(cmd as string, full as string[], { timeout: 5000 }, (err, _out, stderr) =>
      err
        ? reject(
            new EipError(
              'SPROUT_ERR_EIP_ANNOUNCE',
              `gratuitous ARP for ${ip} on ${iface} failed (needs root and iputils-arping): ${(stderr || err.message).trim().split('\n')[0]}`,
              undefined,
              { cause: err },
            ),
          )
        : resolve(),
    ),
  );
}

/**
 * Layer 2 (OpenELB `protocol: layer2`): the address is added to the pool's interface, so the kernel
 * answers ARP (IPv4) and neighbour solicitations (IPv6) for it, and gratuitous ARPs are sent from
 * that interface so neighbours update their caches at once. IPv6 gets no unsolicited advertisement.
 */
export function createLayer2Announcer(options: Layer2AnnouncerOptions = {}): Announcer {
  const local = createLocalAnnouncer(options.netns ? { netns: options.netns } : {});
  const timers = new Set<NodeJS.Timeout>();
  return {
    async announce(h) {
      if (!h.pool.interface)
        throw new EipError('SPROUT_ERR_EIP_ANNOUNCE', 'layer2 needs spec.interface', `Eip/${h.pool.name}`);
      await local.announce(h);
      if (h.family !== 4) return;
      await arping(h.pool.interface, h.ip, options.netns);
      for (let i = 1; i < (options.count ?? 3); i++) {
        const t = setTimeout(() => {
          timers.delete(t);
          arping(h.pool.interface!, h.ip, options.netns).catch((err: Error) =>
            options.logger?.warn({ err: err.message }, 'repeat gratuitous ARP failed'),
          );
        }, i * 1000);
        t.unref();
        timers.add(t);
      }
    },
    withdraw: (h) => local.withdraw(h),
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
