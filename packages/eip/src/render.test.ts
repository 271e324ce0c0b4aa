import { createManifestValidator, vendoredCrdsDir } from '@sprout/kube';
import { describe, expect, it } from 'vitest';
import { AllocatorState } from './allocator.js';
import { renderEipManifests, renderServiceAnnotations } from './render.js';
import { parseEipYaml } from './spec.js';

const crds = vendoredCrdsDir();
const validator = createManifestValidator(crds);

const YAML = `apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: pool-a
  annotations:
    eip.openelb.kubesphere.io/is-default-eip: "true"
    eip.sprout.dev/allow-network-broadcast: "true"
spec:
  address: 192.168.0.0/24
  priority: 3
  namespaces: [test]
  namespaceSelector: {kubesphere.io/workspace: ws}
  protocol: layer2
  interface: eth0
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: pool-v6}
spec: {address: "2001:db8::10-2001:db8::20", protocol: bgp, disable: true}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpConf
metadata: {name: default}
spec: {as: 50001, listenPort: 17900, routerId: 172.22.0.10}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: peer-a}
spec:
  conf: {peerAs: 50000, neighborAddress: 172.22.0.2}
  afiSafis: [{config: {family: {afi: AFI_IP, safi: SAFI_UNICAST}, enabled: true}}]
  timers: {config: {holdTime: "90", keepaliveInterval: 30}}
  transport: {remotePort: 1790}
`;

describe('render', () => {
  it('renders Eip, BgpConf and BgpPeer manifests that validate against the OpenELB CRDs', () => {
    const docs = parseEipYaml(YAML);
    const out = renderEipManifests({ pools: docs.pools, conf: docs.bgpConf!, peers: docs.bgpPeers });
    expect(out.map((d) => d.kind)).toEqual(['Eip', 'Eip', 'BgpConf', 'BgpPeer']);
    for (const m of out)
      expect(validator.validate(m), JSON.stringify(m)).toEqual({ valid: true, issues: [] });
    // Sprout-only annotations stay home; OpenELB's default annotation goes along.
    expect((out[0]!.metadata as { annotations: Record<string, string> }).annotations).toEqual({
      'eip.openelb.kubesphere.io/is-default-eip': 'true',
    });
    // The validator is strict: a mistake would be caught.
    expect(validator.validate({ ...out[0]!, spec: { address: '1.2.3.4', protocol: 'local' } }).valid).toBe(
      false,
    );
  });

  it('refuses to render a local pool for Kubernetes', () => {
    const docs = parseEipYaml(
      'apiVersion: network.kubesphere.io/v1alpha2\nkind: Eip\nmetadata: {name: l}\nspec: {address: 127.0.0.2, protocol: local}\n',
    );
    expect(() => renderEipManifests({ pools: docs.pools })).toThrow(
      /protocol local works on one machine only/,
    );
  });

  it('renders the Service annotations OpenELB reads', () => {
    const docs = parseEipYaml(YAML);
    const s = new AllocatorState();
    for (const p of docs.pools) s.setPool(p);
    const byPool = s.decide({
      namespace: 'test',
      name: 'web',
      pool: 'pool-a',
      ports: [{ port: 443, protocol: 'TCP' }],
    });
    const byIp = s.decide({
      namespace: 'test',
      name: 'dns',
      ips: ['192.168.0.7'],
      ipFamilyPolicy: 'SingleStack',
    });
    expect(renderServiceAnnotations(byPool)).toEqual({
      'lb.kubesphere.io/v1alpha1': 'openelb',
      'eip.openelb.kubesphere.io/v1alpha2': 'pool-a',
    });
    expect(renderServiceAnnotations(byIp)).toEqual({
      'lb.kubesphere.io/v1alpha1': 'openelb',
      'eip.openelb.kubesphere.io/v1alpha1': '192.168.0.7',
    });
    const [svc] = renderEipManifests({ pools: [], services: [byPool] });
    expect(svc).toMatchObject({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'test' },
      spec: { type: 'LoadBalancer', ports: [{ name: 'tcp-443', port: 443, protocol: 'TCP' }] },
    });
  });
});
