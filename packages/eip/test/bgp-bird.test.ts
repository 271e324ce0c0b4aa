import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sprout/observe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAnnouncers,
  createEipManager,
  startAnnouncing,
  type BgpAnnouncer,
  type EipManager,
} from '@sprout/eip';
import { startBird, type Bird } from './bird.js';

// Unique to this file: Sprout speaks from 127.0.66.2 to bird (AS 65000) on a free port.
const SPROUT = '127.0.66.2';
const quiet = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'sprout-eip-bgp-'));
let bird: Bird;

beforeAll(async () => {
  bird = await startBird({ localAs: 65000, peerAs: 65010, peerAddress: SPROUT, birdAddress: '127.0.66.1' });
});
afterAll(async () => {
  await bird?.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (port: number) => `apiVersion: network.kubesphere.io/v1alpha2
kind: BgpConf
metadata: {name: default}
spec: {as: 65010, routerId: 10.66.0.2}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: bird}
spec:
  conf: {peerAs: 65000, neighborAddress: 127.0.66.1}
  transport: {remotePort: ${port}}
  timers: {config: {holdTime: "9", connectRetry: "0.2"}}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: bgp4}
spec: {address: 198.51.100.0/28, protocol: bgp, namespaces: [routed]}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: bgp6}
spec: {address: "2001:db8:66::/120", protocol: bgp, namespaces: [routed]}
`;

function setup(name: string): { eip: EipManager; bgp: BgpAnnouncer; close: () => Promise<void> } {
  const eip = createEipManager({ dataDir: join(dir, name), logger: quiet });
  eip.apply(config(bird.port));
  const announcers = createAnnouncers(eip, {
    logger: quiet,
    bgpLocalAddress: SPROUT,
    nextHopIpv6: '2001:db8:ffff::2',
  });
  const running = startAnnouncing(eip, { announcers, logger: quiet, pollMs: 50 });
  return {
    eip,
    bgp: announcers.bgp as BgpAnnouncer,
    close: async () => {
      await running.close();
      eip.close();
    },
  };
}

describe('BGP speaker against bird2', () => {
  it('the peer learns the /32 and /128 after allocation and loses them after release and on stop', async () => {
    const { eip, bgp, close } = setup('announce');
    await bgp.established();
    expect(await bird.protocols()).toMatch(/Established/);
    const s = eip.allocate({ namespace: 'routed', name: 'web', ipFamilyPolicy: 'RequireDualStack' });
    expect(s.addresses.map((a) => a.ip)).toEqual(['198.51.100.1', '2001:db8:66::1']);
    await expect
      .poll(() => bird.routes(), { timeout: 5000, interval: 50 })
      .toMatch(/198\.51\.100\.1\/32[\s\S]*BGP\.as_path: 65010/);
    await expect.poll(() => bird.routes(), { timeout: 5000, interval: 50 }).toMatch(/2001:db8:66::1\/128/);
    const routes = await bird.routes();
    expect(routes).toMatch(/BGP\.next_hop: 127\.0\.66\.2/);
    expect(routes).toMatch(/BGP\.next_hop: 2001:db8:ffff::2/);

    eip.allocate({ namespace: 'routed', name: 'api' });
    await expect.poll(() => bird.routes(), { timeout: 5000, interval: 50 }).toMatch(/198\.51\.100\.2\/32/);
    eip.release('routed', 'web');
    await expect
      .poll(() => bird.routes(), { timeout: 5000, interval: 50 })
      .not.toMatch(/198\.51\.100\.1\/32/);
    expect(await bird.routes()).not.toMatch(/2001:db8:66::1\/128/);
    expect(await bird.routes()).toMatch(/198\.51\.100\.2\/32/);

    await close(); // Cease: bird drops the session and with it every route
    await expect
      .poll(() => bird.routes(), { timeout: 5000, interval: 50 })
      .not.toMatch(/198\.51\.100\.2\/32/);
    expect(await bird.protocols()).toMatch(/Administrative shutdown/);
  });

  it('reconnects with backoff after the peer restarts and announces again', async () => {
    const { eip, bgp, close } = setup('restart');
    eip.allocate({ namespace: 'routed', name: 'db' });
    await bgp.established();
    await expect.poll(() => bird.routes(), { timeout: 5000, interval: 50 }).toMatch(/198\.51\.100\.1\/32/);
    await bird.stop();
    await expect.poll(() => bgp.sessions().bird!.state, { timeout: 5000 }).not.toBe('established');
    await bird.start();
    await expect.poll(() => bgp.sessions().bird!.state, { timeout: 10_000 }).toBe('established');
    await expect.poll(() => bird.routes(), { timeout: 5000, interval: 50 }).toMatch(/198\.51\.100\.1\/32/);
    await close();
  });

  it('follows BgpPeer changes applied while serving (here: by another process)', async () => {
    const dataDir = join(dir, 'late');
    const eip = createEipManager({ dataDir, logger: quiet });
    const [conf, peer, ...pools] = config(bird.port).split('---\n');
    eip.apply(pools.join('---\n'));
    const announcers = createAnnouncers(eip, { logger: quiet, bgpLocalAddress: SPROUT });
    const running = startAnnouncing(eip, { announcers, logger: quiet, pollMs: 50 });
    const bgp = announcers.bgp as BgpAnnouncer;
    eip.allocate({ namespace: 'routed', name: 'early' });
    await running.settled();
    await expect(bgp.established(100)).rejects.toThrow(/no BgpConf named default/);
    const other = createEipManager({ dataDir, logger: quiet });
    other.apply(`${conf}---\n${peer}`);
    other.close();
    await expect.poll(() => bgp.sessions().bird?.state, { timeout: 10_000 }).toBe('established');
    await expect.poll(() => bird.routes(), { timeout: 5000, interval: 50 }).toMatch(/198\.51\.100\.1\/32/);
    await running.close();
    eip.close();
  });
});
