import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sprout/observe';
import { afterAll, describe, expect, it } from 'vitest';
import { createEipManager, createLayer2Announcer, startAnnouncing } from '@sprout/eip';
import { createNetns, deleteNetns, requireSetup, sh } from './netns.js';

// Two namespaces joined by a veth pair: Sprout's side announces, the neighbour watches its ARP table.
const quiet = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'sprout-eip-l2-'));
const speaker = createNetns('sprout-eip-l2s');
const neighbour = createNetns('sprout-eip-l2n');
let reason = speaker.reason ?? neighbour.reason;
let mac = '';
if (!reason) {
  try {
    const [s, n] = [speaker.name!, neighbour.name!];
    sh('ip', ['link', 'add', 'eipl2s0', 'netns', s, 'type', 'veth', 'peer', 'name', 'eipl2n0', 'netns', n]);
    sh('ip', ['-n', s, 'link', 'set', 'eipl2s0', 'up']);
    sh('ip', ['-n', n, 'link', 'set', 'eipl2n0', 'up']);
    sh('ip', ['-n', s, 'addr', 'add', '10.88.0.1/24', 'dev', 'eipl2s0']);
    sh('ip', ['-n', n, 'addr', 'add', '10.88.0.2/24', 'dev', 'eipl2n0']);
    // Let the neighbour learn entries from gratuitous ARP.
    sh('ip', ['netns', 'exec', n, 'sysctl', '-qw', 'net.ipv4.conf.eipl2n0.arp_accept=1']);
    mac = /link\/ether ([0-9a-f:]{17})/.exec(sh('ip', ['-n', s, 'link', 'show', 'eipl2s0']))![1]!;
    sh('arping', ['-V']);
  } catch (err) {
    reason = `cannot set up the layer 2 namespaces (needs root, iproute2, iputils-arping): ${(err as Error).message.split('\n')[0]}`;
  }
}
afterAll(() => {
  deleteNetns(speaker.name);
  deleteNetns(neighbour.name);
  rmSync(dir, { recursive: true, force: true });
});

describe('layer2 announcer', () => {
  const mode = requireSetup(reason);
  it.skipIf(mode === 'skip')(
    'sends gratuitous ARP from the pool interface; the neighbour learns the MAC and reaches the address',
    async () => {
      const eip = createEipManager({ dataDir: dir, logger: quiet });
      eip.apply(`apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: l2}
spec: {address: 10.88.0.100-10.88.0.110, protocol: layer2, interface: eipl2s0, namespaces: [lan]}
`);
      const neigh = () => sh('ip', ['-n', neighbour.name!, 'neigh', 'show', 'dev', 'eipl2n0']);
      expect(neigh()).not.toMatch(/10\.88\.0\.100/);
      const running = startAnnouncing(eip, {
        announcers: { layer2: createLayer2Announcer({ netns: speaker.name!, count: 1 }) },
        logger: quiet,
      });
      expect(eip.allocate({ namespace: 'lan', name: 'printer' }).addresses[0]!.ip).toBe('10.88.0.100');
      await running.settled();
      // Learned from the gratuitous ARP alone: nothing in the neighbour has talked to the address yet.
      expect(neigh()).toMatch(new RegExp(`10\\.88\\.0\\.100 lladdr ${mac}`));
      // And the address answers: the kernel replies to ARP for it on that interface.
      expect(
        sh('ip', ['netns', 'exec', neighbour.name!, 'ping', '-c', '1', '-W', '2', '10.88.0.100']),
      ).toMatch(/1 received/);
      eip.release('lan', 'printer');
      await running.settled();
      expect(sh('ip', ['-n', speaker.name!, '-o', 'addr', 'show', 'dev', 'eipl2s0'])).not.toMatch(
        /10\.88\.0\.100/,
      );
      await running.close();
      eip.close();
    },
  );
});
