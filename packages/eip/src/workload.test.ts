import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sprout/observe';
import { afterEach, describe, expect, it } from 'vitest';
import { EipError } from './errors.js';
import { createEipManager, type EipManager } from './manager.js';
import { validateRequest } from './manager/request.js';
import { applyWorkload, parseWorkloadYaml } from './workload.js';

const fixtures = new URL('../test/fixtures/openelb/', import.meta.url);
const fixture = (f: string) => readFileSync(new URL(f, fixtures), 'utf8');

const opened: { m: EipManager; dir: string }[] = [];
afterEach(() => {
  for (const { m, dir } of opened.splice(0)) {
    m.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
function manager(): EipManager {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-eip-workload-'));
  const m = createEipManager({ dataDir: dir, logger: createLogger({ name: 'eip', level: 'error' }) });
  opened.push({ m, dir });
  return m;
}

/** Applies YAML text and returns `namespace/name → address or pending reason`, and why. */
function apply(m: EipManager, text: string) {
  const r = applyWorkload(m, parseWorkloadYaml(text));
  return {
    ...r,
    got: Object.fromEntries(
      r.services.map((s) => [
        s.service.key,
        s.service.status === 'allocated'
          ? s.service.addresses.map((a) => a.ip).join(',')
          : s.service.condition!.reason,
      ]),
    ),
    why: Object.fromEntries(r.services.map((s) => [s.service.key, s.why])),
  };
}

const defaultEip = `apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: default-eip
  annotations: {eip.openelb.kubesphere.io/is-default-eip: "true"}
spec: {address: 10.9.0.1-10.9.0.3}
---
`;

const service = (name: string, extra: string, annotations = 'lb.kubesphere.io/v1alpha1: openelb') => `---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  annotations: {${annotations}}
spec:
  type: LoadBalancer
${extra}`;

describe('parseWorkloadYaml', () => {
  it("reads OpenELB's workload sample: two Services to allocate, the Deployment skipped", () => {
    const w = parseWorkloadYaml(fixture('workload.yaml'), 'workload.yaml');
    expect(w.eip.pools).toEqual([]);
    expect(w.services).toEqual([
      {
        request: {
          namespace: 'default',
          name: 'mylbapp-svc-layer2',
          ports: [{ port: 8088, protocol: 'TCP' }],
        },
        by: 'automatic',
        protocol: 'layer2',
      },
      {
        request: { namespace: 'default', name: 'mylbapp-svc', ports: [{ port: 8088, protocol: 'TCP' }] },
        by: 'automatic',
        protocol: 'bgp',
      },
    ]);
    expect(w.skipped).toEqual([{ name: 'Deployment/mylbapp', reason: 'Sprout does not act on this kind' }]);
  });

  it('skips Services OpenELB does not allocate for, saying why', () => {
    const w = parseWorkloadYaml(
      service('cluster', '', 'lb.kubesphere.io/v1alpha1: openelb').replace('LoadBalancer', 'ClusterIP') +
        service('other-lb', '', 'metallb.universe.tf/address-pool: x') +
        service(
          'np',
          '',
          'lb.kubesphere.io/v1alpha1: openelb, node-proxy.openelb.kubesphere.io/type: deployment',
        ) +
        '---\napiVersion: v2\nkind: Service\nmetadata: {name: odd}\n---\nkind: ConfigMap\n---\n',
    );
    expect(w.services).toEqual([]);
    expect(w.skipped).toEqual([
      {
        name: 'Service/cluster',
        reason: expect.stringMatching(/spec.type is ClusterIP; OpenELB allocates for LoadBalancer/),
      },
      {
        name: 'Service/other-lb',
        reason: expect.stringMatching(/no lb.kubesphere.io\/v1alpha1: openelb annotation/),
      },
      { name: 'Service/np', reason: expect.stringMatching(/NodeProxy is not supported/) },
      { name: 'Service/odd', reason: 'apiVersion "v2" is not v1' },
      { name: 'ConfigMap/(unnamed)', reason: 'Sprout does not act on this kind' },
    ]);
  });

  it('the IP annotation wins over spec.loadBalancerIP, as in OpenELB', () => {
    const w = parseWorkloadYaml(
      service(
        'testsvc',
        '  loadBalancerIP: 192.168.1.50\n',
        'lb.kubesphere.io/v1alpha1: openelb, eip.openelb.kubesphere.io/v1alpha2: eip, eip.openelb.kubesphere.io/v1alpha1: 192.168.1.100',
      ),
    );
    expect(w.services[0]).toEqual({
      request: {
        namespace: 'default',
        name: 'testsvc',
        pool: 'eip',
        ips: ['192.168.1.100'],
        sharingKey: 'openelb-ip:192.168.1.100',
      },
      by: 'ip-annotation',
    });
  });

  it.each([
    [service('a', '  ports: [{port: 0}]\n'), /SPROUT_ERR_EIP_BAD_SPEC .*spec.ports.0.port/],
    [
      service('a', '  ports: [{port: 80, protocol: ICMP}]\n'),
      /SPROUT_ERR_EIP_BAD_SPEC .*spec.ports.0.protocol/,
    ],
    [
      service('a', '  loadBalancerIP: 10.0.0.300\n'),
      /SPROUT_ERR_EIP_BAD_ADDRESS .*Service\/a\): spec.loadBalancerIP/,
    ],
    [
      service('a', '', 'lb.kubesphere.io/v1alpha1: openelb, eip.openelb.kubesphere.io/v1alpha1: nope'),
      /SPROUT_ERR_EIP_BAD_ADDRESS .*metadata.annotations.eip.openelb.kubesphere.io\/v1alpha1/,
    ],
    [service('A_b', ''), /SPROUT_ERR_EIP_BAD_SPEC .*metadata.name/],
    [service('a', '').replace('metadata:', 'metadata:\n  namespace: ../x'), /metadata.namespace/],
    [service('a', '', 'lb.kubesphere.io/v1alpha1: openelb, x: 1'), /metadata.annotations.x/],
    ['--- [1, 2]\n', /SPROUT_ERR_EIP_BAD_SPEC .*unknown kind/],
    [
      service('a', '', 'lb.kubesphere.io/v1alpha1: openelb, eip.openelb.kubesphere.io/v1alpha2: Bad_Pool'),
      /SPROUT_ERR_EIP_BAD_SPEC .*Service\/a\): metadata.annotations.eip.openelb.kubesphere.io\/v1alpha2: must be a DNS/,
    ],
    [
      service(
        'a',
        '',
        'lb.kubesphere.io/v1alpha1: openelb, eip.openelb.kubesphere.io/v1alpha1: "10.0.0.1,10.0.0.2"',
      ),
      /SPROUT_ERR_EIP_BAD_SPEC .*eip.openelb.kubesphere.io\/v1alpha1: at most one address per family/,
    ],
  ])('refuses a bad OpenELB Service with a coded error naming the field (%#)', (yaml, why) => {
    let err: unknown;
    try {
      parseWorkloadYaml(yaml);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EipError);
    expect(`${(err as EipError).code} ${(err as Error).message}`).toMatch(why);
  });

  // Seeded and time-boxed: mutated upstream files give a workload whose requests the manager
  // accepts, or a coded error; never anything else. FUZZ_SEED replays a run.
  it('fuzz: mutated workload files give a valid workload or a coded error', () => {
    const seed0 = Number(process.env.FUZZ_SEED ?? 0x0e1b);
    let seed = seed0;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    const inputs = ['workload.yaml', 'ipam-specified-ip.yaml', 'ipam-automatic.yaml'].map(fixture);
    const alphabet = [
      '\n',
      ' ',
      ':',
      '-',
      '.',
      '/',
      '"',
      '{',
      '}',
      '0',
      '9',
      'a',
      'openelb',
      '---\n',
      '\0',
      '%2F',
    ];
    const end = Date.now() + Number(process.env.EIP_FUZZ_MS ?? 500);
    let n = 0;
    let ok = 0;
    for (; n < 300 || Date.now() < end; n++) {
      let text = inputs[Math.floor(rnd() * inputs.length)]!;
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
        const at = Math.floor(rnd() * text.length);
        const cut = Math.floor(rnd() * 6);
        const ins = rnd() < 0.6 ? alphabet[Math.floor(rnd() * alphabet.length)]! : '';
        text = text.slice(0, at) + ins + text.slice(at + cut);
      }
      try {
        const w = parseWorkloadYaml(text);
        for (const s of w.services) expect(() => validateRequest(structuredClone(s.request))).not.toThrow();
        ok++;
      } catch (err) {
        expect(err, `seed ${seed0} case ${n}: ${JSON.stringify(text)}`).toBeInstanceOf(EipError);
        expect((err as EipError).code).toMatch(/^SPROUT_ERR_EIP_BAD_(SPEC|ADDRESS)$/);
      }
    }
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThan(n);
  });
});

describe('applyWorkload', () => {
  it('with only a layer2 Eip and no default, the sample Services wait (OpenELB: no default eip found)', () => {
    const r = apply(
      manager(),
      fixture('network_v1alpha2_eip_layer2.yaml') + '\n---\n' + fixture('workload.yaml'),
    );
    expect(r.applied.pools).toEqual([{ name: 'eip-sample-layer2', action: 'created' }]);
    expect(r.got).toEqual({
      'default/mylbapp-svc-layer2': 'NoPoolForNamespace',
      'default/mylbapp-svc': 'NoPoolForNamespace',
    });
    expect(r.skipped.map((s) => s.name)).toEqual(['Deployment/mylbapp']);
  });

  it('with a default Eip, the sample Services get addresses from it; the protocol annotation is noted', () => {
    const r = apply(manager(), defaultEip + fixture('workload.yaml'));
    expect(r.got).toEqual({ 'default/mylbapp-svc-layer2': '10.9.0.1', 'default/mylbapp-svc': '10.9.0.2' });
    expect(r.why['default/mylbapp-svc-layer2']).toBe(
      "Eip/default-eip (bgp), the default Eip (none is bound to namespace default); protocol.openelb.kubesphere.io/v1alpha1: layer2 ignored, the Eip's protocol bgp applies (as OpenELB 0.6)",
    );
    expect(r.why['default/mylbapp-svc']).toBe(
      'Eip/default-eip (bgp), the default Eip (none is bound to namespace default)',
    );
  });

  it("follows OpenELB's IP address assignment page", () => {
    // Specified Eip: used even though it is not bound to the Service's namespace.
    const m = manager();
    const eip = apply(m, fixture('ipam-specified-eip.yaml'));
    expect(eip.got).toEqual({ 'project-test/nginx': '172.31.73.130' });
    expect(eip.why['project-test/nginx']).toBe(
      'Eip/layer2-eip (layer2), named by eip.openelb.kubesphere.io/v1alpha2',
    );
    // Automatic: the Eip bound to the namespace.
    const auto = apply(m, fixture('ipam-automatic.yaml'));
    expect(auto.got).toEqual({ 'project/nginx': '172.31.73.131' });
    expect(auto.why['project/nginx']).toBe(
      'Eip/layer2-eip (layer2), bound to namespace project by spec.namespaces',
    );
    // Specified IP outside every Eip (as the page writes it): OpenELB finds no Eip containing it.
    const ip = apply(manager(), fixture('ipam-specified-ip.yaml'));
    expect(ip.got).toEqual({ 'project-test/nginx': 'IpNotInPool', 'project-test/nginx1': 'IpNotInPool' });
    expect(ip.why['project-test/nginx']).toBe('IpNotInPool: 192.168.1.10 is not in any Eip');
    // Applying again keeps what is held.
    expect(apply(m, fixture('ipam-automatic.yaml')).why['project/nginx']).toBe(
      'Eip/layer2-eip (layer2), held since an earlier apply (release it to move it)',
    );
  });

  it('a specified IP is shared by Services on different ports, not on the same port', () => {
    const pool = `apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: lan}
spec: {address: 192.168.1.0/28}
`;
    const r = apply(
      manager(),
      pool +
        service('web', '  loadBalancerIP: 192.168.1.10\n  ports: [{port: 80}]\n') +
        service(
          'dns',
          '  ports: [{port: 53, protocol: UDP}]\n',
          'lb.kubesphere.io/v1alpha1: openelb, eip.openelb.kubesphere.io/v1alpha1: 192.168.1.10',
        ) +
        service('web2', '  loadBalancerIP: 192.168.1.10\n  ports: [{port: 80}]\n'),
    );
    expect(r.got).toEqual({
      'default/web': '192.168.1.10',
      'default/dns': '192.168.1.10',
      'default/web2': 'IpInUse',
    });
    expect(r.why['default/web']).toBe('Eip/lan (bgp), address from spec.loadBalancerIP');
    expect(r.why['default/dns']).toBe('Eip/lan (bgp), address from eip.openelb.kubesphere.io/v1alpha1');
  });

  it('a namespaceSelector binds by labels; the lower priority value wins', () => {
    const r = apply(
      manager(),
      `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: by-label}
spec: {address: 10.1.0.1-10.1.0.2, priority: 1, namespaceSelector: {team: a}}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: by-label-first}
spec: {address: 10.2.0.1, priority: 0, namespaceSelector: {team: a}}
` +
        service('one', '').replace('metadata:', 'metadata:\n  namespace: shop') +
        service('two', '').replace('metadata:', 'metadata:\n  namespace: shop'),
    );
    expect(r.got).toEqual({ 'shop/one': '10.2.0.1', 'shop/two': '10.1.0.1' });
    expect(r.why['shop/two']).toBe('Eip/by-label (bgp), bound to namespace shop by spec.namespaceSelector');
    expect(r.applied.namespaces).toEqual(['shop']);
  });
});
