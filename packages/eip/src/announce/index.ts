import { createLogger, type Logger } from '@sprout/observe';
import { createBgpAnnouncer, type BgpAnnouncer } from '../bgp/speaker.js';
import { EipError } from '../errors.js';
import type { EipManager } from '../manager.js';
import type { HeldAddress } from '../manager/synced-state.js';
import type { Pool } from '../spec.js';
import { createLayer2Announcer } from './layer2.js';
import { createLocalAnnouncer, type LocalAnnouncerOptions } from './local.js';
import type { Announcer } from './types.js';

export interface CreateAnnouncersOptions extends LocalAnnouncerOptions {
  logger?: Logger;
  /** Source address of BGP connections. */
  bgpLocalAddress?: string;
  /** Next hop for IPv6 routes over IPv4 BGP sessions. */
  nextHopIpv6?: string;
}

/**
 * A BGP announcer that follows the applied BgpConf/BgpPeer: when they change (in this process or
 * another), the sessions are replaced and every held bgp address is announced on the new ones.
 */
function bgpFollowingConfig(
  manager: EipManager,
  options: CreateAnnouncersOptions,
  log: Logger,
): BgpAnnouncer {
  const routes = new Map<string, HeldAddress>();
  let inner: BgpAnnouncer | undefined;
  let signature: string | undefined;
  let chain = Promise.resolve();
  const reconfigure = () => {
    const { conf, peers } = manager.bgp();
    const sig = JSON.stringify([conf?.document, peers.map((p) => p.document)]);
    if (sig === signature) return;
    signature = sig;
    chain = chain.then(async () => {
      const old = inner;
      inner = undefined;
      await old?.close();
      if (conf && peers.length) {
        inner = createBgpAnnouncer({
          conf,
          peers,
          logger: log,
          ...(options.bgpLocalAddress ? { localAddress: options.bgpLocalAddress } : {}),
          ...(options.nextHopIpv6 ? { nextHopIpv6: options.nextHopIpv6 } : {}),
        });
        for (const h of routes.values()) await inner.announce(h);
        log.info({ peers: peers.map((p) => p.name) }, 'BGP configuration applied');
      } else if (old || manager.pools().some((p) => p.protocol === 'bgp')) {
        log.warn('no BgpConf named default with BgpPeers is applied; bgp pool addresses are not announced');
      }
    });
  };
  manager.on('change', reconfigure);
  reconfigure();
  return {
    async announce(h) {
      routes.set(h.ip, h);
      await chain;
      await inner?.announce(h);
    },
    async withdraw(h) {
      routes.delete(h.ip);
      await chain;
      await inner?.withdraw(h);
    },
    async close() {
      manager.off('change', reconfigure);
      await chain;
      await inner?.close();
    },
    sessions: () => inner?.sessions() ?? {},
    async established(ms) {
      await chain;
      if (!inner)
        throw new EipError('SPROUT_ERR_EIP_BGP_CONFIG', 'no BgpConf named default with BgpPeers is applied');
      return inner.established(ms);
    },
  };
}

/**
 * The announcers `sprout eip serve` runs: local and layer 2 (address on the interface + gratuitous
 * ARP) always; BGP following the applied BgpConf/BgpPeer. `vip` (keepalived in OpenELB) has no
 * announcer: its pools are reported as allocated but not announced.
 */
export function createAnnouncers(
  manager: EipManager,
  options: CreateAnnouncersOptions = {},
): Partial<Record<Pool['protocol'], Announcer>> {
  const log = options.logger ?? createLogger({ name: 'eip' });
  return {
    local: createLocalAnnouncer(options),
    layer2: createLayer2Announcer({ ...options, logger: log }),
    bgp: bgpFollowingConfig(manager, options, log),
  };
}
