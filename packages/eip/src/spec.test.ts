import { readFileSync } from 'node:fs';
import { vendoredCrdsDir } from '@sprout/kube';
import { describe, expect, it } from 'vitest';
import { EipError } from './errors.js';
import { parseEipYaml, poolServesNamespace } from './spec.js';

const samples = `${vendoredCrdsDir()}/openelb/samples/`;

const eip = (name: string, spec: string, annotations = '') =>
  `apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: ${name}
${annotations ? `  annotations:\n${annotations}\n` : ''}spec:
${spec}
`;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EipError);
    return `${(err as EipError).code} ${(err as Error).message}`;
  }
  throw new Error('expected an error');
}

describe('parseEipYaml', () => {
  it('reads the upstream OpenELB samples', () => {
    for (const f of [
      'network_v1alpha2_eip.yaml',
      'network_v1alpha2_eip_layer2.yaml',
      'network_v1alpha2_bgpconf.yaml',
      'network_v1alpha2_bgppeer.yaml',
    ]) {
      const docs = parseEipYaml(readFileSync(samples + f, 'utf8'), f);
      expect(docs.pools.length + docs.bgpPeers.length + (docs.bgpConf ? 1 : 0)).toBe(1);
    }
    const l2 = parseEipYaml(readFileSync(samples + 'network_v1alpha2_eip_layer2.yaml', 'utf8')).pools[0]!;
    expect(l2).toMatchObject({
      name: 'eip-sample-layer2',
      protocol: 'layer2',
      interface: 'eth0',
      priority: 0,
      disable: false,
    });
    const peer = parseEipYaml(readFileSync(samples + 'network_v1alpha2_bgppeer.yaml', 'utf8')).bgpPeers[0]!;
    expect(peer).toMatchObject({
      peerAs: 50000,
      neighborAddress: '172.22.0.2',
      port: 179,
      families: ['ipv4', 'ipv6'],
    });
  });

  it('reads the website example with namespaces, selector, priority and the default annotation', () => {
    const docs = parseEipYaml(
      eip(
        'eip-sample-pool',
        `  address: 192.168.0.91-192.168.0.100
  priority: 100
  namespaces: [test, default]
  namespaceSelector:
    kubesphere.io/workspace: workspace
  protocol: layer2
  interface: eth0`,
        '    eip.openelb.kubesphere.io/is-default-eip: "true"',
      ) +
        `---
apiVersion: v1
kind: Namespace
metadata:
  name: ws
  labels: { kubesphere.io/workspace: workspace }
`,
    );
    const p = docs.pools[0]!;
    expect(p).toMatchObject({ isDefault: true, priority: 100, namespaces: ['test', 'default'] });
    expect(poolServesNamespace(p, docs.namespaces[0]!)).toBe(true);
    expect(poolServesNamespace(p, { name: 'test', labels: {} })).toBe(true);
    expect(poolServesNamespace(p, { name: 'other', labels: { 'kubesphere.io/workspace': 'x' } })).toBe(false);
  });

  it.each([
    [
      eip('a', '  address: 10.0.0.0/33'),
      /SPROUT_ERR_EIP_BAD_ADDRESS Eip\/a: spec.address: '10.0.0.0\/33' has a bad prefix/,
    ],
    [eip('a', '  address: 10.0.0.9-10.0.0.1'), /inverted/],
    [eip('a', '  address: fe80::1%eth0'), /zone/],
    [
      eip('a', '  address: 10.0.0.1\n  protocol: layer2'),
      /SPROUT_ERR_EIP_BAD_SPEC Eip\/a: spec.interface: protocol layer2 needs an interface/,
    ],
    [eip('a', '  address: 10.0.0.1\n  protocol: ospf'), /spec.protocol/],
    [eip('a', '  address: 10.0.0.1\n  adress: x'), /spec: Unrecognized key: "adress"/],
    [eip('a', '  address: 10.0.0.1\n  priority: -1'), /spec.priority/],
    [eip('A_B', '  address: 10.0.0.1'), /metadata.name: must be a DNS subdomain/],
    [
      eip('a', '  address: 10.0.0.1', '    eip.openelb.kubesphere.io/is-default-eip: "yes"'),
      /must be "true" or "false"/,
    ],
    [
      eip('a', '  address: 10.0.0.0/24') + '---\n' + eip('b', '  address: 10.0.0.200-10.0.1.4'),
      /SPROUT_ERR_EIP_POOL_OVERLAP Eip\/b \(10.0.0.200-10.0.1.4\) overlaps Eip\/a/,
    ],
    [
      eip('a', '  address: 10.0.0.1', '    eip.openelb.kubesphere.io/is-default-eip: "true"') +
        '---\n' +
        eip('b', '  address: 10.0.0.2', '    eip.openelb.kubesphere.io/is-default-eip: "true"'),
      /SPROUT_ERR_EIP_SECOND_DEFAULT Eip\/b is marked default but Eip\/a already is/,
    ],
    [eip('a', '  address: 10.0.0.1') + '---\n' + eip('a', '  address: 10.0.0.2'), /Eip\/a: is defined twice/],
    [
      'apiVersion: network.kubesphere.io/v1alpha1\nkind: Eip\nmetadata: {name: a}\nspec: {address: 1.2.3.4}\n',
      /must use apiVersion network.kubesphere.io\/v1alpha2/,
    ],
    ['apiVersion: v1\nkind: Service\nmetadata: {name: a}\n', /unknown kind "Service"/],
    ['kind: [oops', /document 1: YAML/],
    [
      'apiVersion: network.kubesphere.io/v1alpha2\nkind: BgpConf\nmetadata: {name: other}\nspec: {as: 1}\n',
      /only the BgpConf named 'default'/,
    ],
    [
      'apiVersion: network.kubesphere.io/v1alpha2\nkind: BgpConf\nmetadata: {name: default}\nspec: {as: 1, policy: x}\n',
      /policy is not supported/,
    ],
    [
      'apiVersion: network.kubesphere.io/v1alpha2\nkind: BgpConf\nmetadata: {name: default}\nspec: {as: 1, routerId: "::1"}\n',
      /routerId: must be an IPv4/,
    ],
    [
      'apiVersion: network.kubesphere.io/v1alpha2\nkind: BgpPeer\nmetadata: {name: p}\nspec: {conf: {peerAs: 1, neighborAddress: "1.2.3"}}\n',
      /BgpPeer\/p: spec.conf.neighborAddress/,
    ],
    [
      'apiVersion: network.kubesphere.io/v1alpha2\nkind: BgpPeer\nmetadata: {name: p}\nspec: {conf: {peerAs: 0, neighborAddress: "1.2.3.4"}}\n',
      /spec.conf.peerAs/,
    ],
    [
      'apiVersion: network.kubesphere.io/v1alpha2\nkind: BgpPeer\nmetadata: {name: p}\nspec: {conf: {peerAs: 1, neighborAddress: "1.2.3.4", authPassword: x}}\n',
      /authPassword \(TCP MD5 signatures\) is not supported/,
    ],
  ])('refuses bad input with a clear error (%#)', (yaml, why) => {
    expect(codeOf(() => parseEipYaml(yaml))).toMatch(why);
  });

  it('reads BgpPeer timers, port and families', () => {
    const docs = parseEipYaml(`apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: p}
spec:
  conf: {peerAs: 65001, neighborAddress: "2001:DB8::1"}
  afiSafis:
    - config: {family: {afi: AFI_IP, safi: SAFI_UNICAST}, enabled: true}
  timers: {config: {holdTime: "9", keepaliveInterval: 3, connectRetry: "1"}}
  transport: {remotePort: 1790}
`);
    expect(docs.bgpPeers[0]).toMatchObject({
      neighborAddress: '2001:db8::1',
      port: 1790,
      families: ['ipv4'],
      holdTime: 9,
      keepaliveInterval: 3,
      connectRetry: 1,
    });
  });
});
