import { networkInterfaces } from 'node:os';
import { createLogger, type Logger } from '@sprout/observe';
import type { Announcer } from '../announce/types.js';
import { EipError } from '../errors.js';
import type { BgpConf, BgpPeer } from '../spec.js';
import { BgpSession, type SessionState } from './session.js';

export interface BgpAnnouncerOptions {
  conf: BgpConf;
  peers: BgpPeer[];
  /** Source address for the TCP connections (default: chosen by the kernel). */
  localAddress?: string;
  /** See BgpSessionOptions.nextHopIpv6. */
  nextHopIpv6?: string;
  logger?: Logger;
}

export interface BgpAnnouncer extends Announcer {
  /** Session state per peer name. */
  sessions(): Record<string, { state: SessionState; advertised: string[] }>;
  /** Resolves when every session is established (or rejects after `ms`). */
  established(ms?: number): Promise<void>;
}

function defaultRouterId(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/**
 * Announces each held address as a host route (/32, /128) to every BgpPeer over Sprout's own
 * BGP-4 speaker, configured by OpenELB's BgpConf (as, routerId) and BgpPeer (peerAs,
 * neighborAddress, remotePort, timers, afiSafis, adminDown). Closing sends Cease, so the peers
 * drop the routes when Sprout stops.
 */
export function createBgpAnnouncer(options: BgpAnnouncerOptions): BgpAnnouncer {
  const log = options.logger ?? createLogger({ name: 'bgp' });
  const routerId = options.conf.routerId ?? defaultRouterId();
  if (!routerId)
    throw new EipError(
      'SPROUT_ERR_EIP_BGP_CONFIG',
      'BgpConf/default has no routerId and this machine has no IPv4 address to use',
      'spec.routerId',
    );
  if (options.conf.listenPort !== undefined && options.conf.listenPort > 0) {
    log.warn(
      { listenPort: options.conf.listenPort },
      "BgpConf listenPort: Sprout's speaker connects to its peers and does not listen; peers must not be passive-only towards it",
    );
  }
  const sessions = new Map<string, BgpSession>();
  for (const p of options.peers) {
    if (p.adminDown) {
      log.info({ peer: p.name }, 'BgpPeer is adminDown; not connecting');
      continue;
    }
    const s = new BgpSession({
      localAs: p.localAs ?? options.conf.as,
      routerId,
      peerAs: p.peerAs,
      address: p.neighborAddress,
      port: p.port,
      families: p.families,
      ...(p.holdTime !== undefined ? { holdTime: p.holdTime } : {}),
      ...(p.keepaliveInterval !== undefined ? { keepaliveInterval: p.keepaliveInterval } : {}),
      ...(p.connectRetry !== undefined ? { connectRetry: p.connectRetry } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      ...(options.nextHopIpv6 ? { nextHopIpv6: options.nextHopIpv6 } : {}),
      logger: log,
    });
    sessions.set(p.name, s);
    s.start();
  }
  return {
    async announce(h) {
      for (const s of sessions.values()) s.announce(h.ip);
    },
    async withdraw(h) {
      for (const s of sessions.values()) s.withdraw(h.ip);
    },
    async close() {
      await Promise.all([...sessions.values()].map((s) => s.close()));
    },
    sessions() {
      return Object.fromEntries(
        [...sessions].map(([name, s]) => [name, { state: s.state, advertised: s.advertised() }]),
      );
    },
    established(ms = 10_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () =>
            reject(new EipError('SPROUT_ERR_EIP_BGP_CONFIG', `BGP sessions not established within ${ms} ms`)),
          ms,
        );
        const check = () => {
          if ([...sessions.values()].every((s) => s.state === 'established')) {
            clearTimeout(t);
            resolve();
          }
        };
        for (const s of sessions.values()) s.on('established', check);
        check();
      });
    },
  };
}
