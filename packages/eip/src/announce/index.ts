import { createLogger, type Logger } from '@sprout/observe';
import { createBgpAnnouncer } from '../bgp/speaker.js';
import type { EipManager } from '../manager.js';
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
 * The announcers `sprout eip serve` runs: local always; BGP when a BgpConf and at least one BgpPeer
 * are applied; layer 2 always (address on the interface + gratuitous ARP). `vip` (keepalived in
 * OpenELB) has no announcer: its pools are reported as allocated but not announced.
 */
export function createAnnouncers(
  manager: EipManager,
  options: CreateAnnouncersOptions = {},
): Partial<Record<Pool['protocol'], Announcer>> {
  const log = options.logger ?? createLogger({ name: 'eip' });
  const out: Partial<Record<Pool['protocol'], Announcer>> = {
    local: createLocalAnnouncer(options),
    layer2: createLayer2Announcer({ ...options, logger: log }),
  };
  const { conf, peers } = manager.bgp();
  if (conf && peers.length) {
    out.bgp = createBgpAnnouncer({
      conf,
      peers,
      logger: log,
      ...(options.bgpLocalAddress ? { localAddress: options.bgpLocalAddress } : {}),
      ...(options.nextHopIpv6 ? { nextHopIpv6: options.nextHopIpv6 } : {}),
    });
  } else if (manager.pools().some((p) => p.protocol === 'bgp')) {
    log.warn(
      'bgp pools exist but no BgpConf named default and BgpPeer are applied; their addresses are not announced',
    );
  }
  return out;
}
