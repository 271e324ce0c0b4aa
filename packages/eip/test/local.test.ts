import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, listen } from '@sprout/http/testing';
import { createLogger } from '@sprout/observe';
import { afterAll, describe, expect, it } from 'vitest';
import { createEipManager, createLocalAnnouncer, startAnnouncing } from '@sprout/eip';
import { createNetns, deleteNetns, requireSetup, sh } from './netns.js';

const quiet = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'sprout-eip-local-'));
const ns = createNetns('sprout-eip-local');
if (ns.name) {
  sh('ip', ['-n', ns.name, 'link', 'add', 'eipdummy0', 'type', 'veth', 'peer', 'name', 'eipdummy1']);
  for (const dev of ['eipdummy0', 'eipdummy1']) sh('ip', ['-n', ns.name, 'link', 'set', dev, 'up']);
}
afterAll(() => {
  deleteNetns(ns.name);
  rmSync(dir, { recursive: true, force: true });
});

const POOLS = `apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: lo-pool}
spec: {address: 127.0.77.1-127.0.77.9, protocol: local, namespaces: [loop]}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: nic-pool}
spec: {address: 10.77.0.0/29, protocol: local, interface: eipdummy0, namespaces: [nic]}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: nic6-pool}
spec: {address: "fd77::/64", protocol: local, interface: eipdummy0, namespaces: [nic]}
`;

describe('local announcer', () => {
  it('a loopback address needs nothing: the service can listen on it at once', async () => {
    const eip = createEipManager({ dataDir: join(dir, 'lo'), logger: quiet });
    eip.apply(POOLS);
    const ip = eip.allocate({ namespace: 'loop', name: 'web' }).addresses[0]!.ip;
    expect(ip).toBe('127.0.77.1');
    const a = startAnnouncing(eip, { announcers: { local: createLocalAnnouncer() }, logger: quiet });
    await a.settled();
    expect(a.announced()).toEqual(['127.0.77.1']);
    const server = createServer((s) => s.end('hi'));
    await listen(server, ip);
    expect((server.address() as { address: string }).address).toBe(ip);
    await closeServer(server);
    await a.close();
    eip.close();
  });

  const mode = requireSetup(ns.reason);
  it.skipIf(mode === 'skip')(
    'adds the address to the named interface and removes it on release (IPv4 and IPv6)',
    async () => {
      const eip = createEipManager({ dataDir: join(dir, 'nic'), logger: quiet });
      eip.apply(POOLS);
      const a = startAnnouncing(eip, {
        announcers: { local: createLocalAnnouncer({ netns: ns.name! }) },
        logger: quiet,
        pollMs: 50,
      });
      const s = eip.allocate({ namespace: 'nic', name: 'api', ipFamilyPolicy: 'RequireDualStack' });
      expect(s.addresses.map((x) => x.ip)).toEqual(['10.77.0.1', 'fd77::1']);
      await a.settled();
      const addrs = () => sh('ip', ['-n', ns.name!, '-o', 'addr', 'show', 'dev', 'eipdummy0']);
      expect(addrs()).toMatch(/inet 10\.77\.0\.1\/32/);
      expect(addrs()).toMatch(/inet6 fd77::1\/128/);
      eip.release('nic', 'api');
      await a.settled();
      expect(addrs()).not.toMatch(/10\.77\.0\.1/);
      expect(addrs()).not.toMatch(/fd77::1/);
      // An allocation made by another process (here: another manager on the same store) is picked up by polling.
      const other = createEipManager({ dataDir: join(dir, 'nic'), logger: quiet });
      other.allocate({ namespace: 'nic', name: 'late' });
      other.close();
      await expect.poll(addrs, { timeout: 5000 }).toMatch(/inet 10\.77\.0\.1\/32/);
      await a.close(); // withdraws everything
      expect(addrs()).not.toMatch(/10\.77\.0\.1/);
      eip.close();
    },
  );
});
