import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng } from '@sprout/http/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configExample, kkCreateConfig } from '../../test/kubekey-samples.js';
import { defaultCluster, SECRET_REF_PREFIX, stepOf, type ClusterConfig } from './config.js';
import { ClusterError, type FieldIssue } from './errors.js';
import { ClusterStore } from './store.js';
import { createClusterValidator } from './validate.js';
import { parseConfigFile, renderConfigFile } from './yaml.js';

const validator = createClusterValidator();
const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sprout-kk-config-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const errors = (i: FieldIssue[]) =>
  i.filter((x) => x.severity === 'error').map((x) => `${x.path} ${x.message}`);

/** A valid three-node config as the wizard builds it. */
function wizardConfig(): ClusterConfig {
  const c = defaultCluster('lab');
  c.spec.hosts = [
    {
      name: 'node1',
      address: '192.168.0.11',
      internalAddress: '192.168.0.11',
      user: 'ubuntu',
      password: 'pw-node1-secret',
    },
    {
      name: 'node2',
      address: '192.168.0.12',
      internalAddress: '192.168.0.12',
      user: 'ubuntu',
      privateKey:
        '-----BEGIN OPENSSH PRIVATE KEY-----\nkey-node2-secret\n-----END OPENSSH PRIVATE KEY-----\n',
      arch: 'arm64',
      labels: { disk: 'ssd' },
    },
    { name: 'node3', address: '192.168.0.13', user: 'ubuntu', privateKeyPath: '~/.ssh/id_ed25519' },
  ];
  c.spec.roleGroups = { etcd: ['node1'], 'control-plane': ['node1'], worker: ['node2', 'node3'] };
  c.spec.registry = {
    registryMirrors: ['https://mirror.example.com'],
    insecureRegistries: ['10.0.0.5:5000'],
    privateRegistry: 'registry.example.com',
    auths: { 'registry.example.com': { username: 'admin', password: 'registry-pw-secret' } },
  };
  c.spec.addons = [
    {
      name: 'nfs',
      namespace: 'kube-system',
      sources: { chart: { name: 'nfs-client-provisioner', repo: 'https://charts.kubesphere.io/main' } },
    },
  ];
  return c;
}

describe('KubeKey samples', () => {
  it('the `kk create config` template loads, validates and round-trips', () => {
    const text = kkCreateConfig('sample', 'v1.28.15', 'containerd');
    const file = parseConfigFile(text);
    expect(validator.validate(file.cluster)).toEqual([]);
    const store = new ClusterStore(dataDir());
    const saved = store.import(text);
    expect(saved.summary).toEqual({
      name: 'sample',
      nodes: 2,
      kubernetesVersion: 'v1.28.15',
      networkPlugin: 'calico',
      containerManager: 'containerd',
    });
    expect(saved.config.spec.hosts[0]!.password).toMatch(new RegExp(`^${SECRET_REF_PREFIX}`));
    expect(parse(store.plainConfig('sample'))).toEqual(parse(text));
  });

  it("KubeKey's full 3.x example loads with its 3.x fields accepted, round-trips, and names the hosts it lacks", () => {
    const text = configExample();
    const file = parseConfigFile(text);
    // Upstream's example refers to node[2:10] and node[10:100] but defines node1..node3.
    expect(errors(validator.validate(file.cluster))).toEqual([
      '/spec/roleGroups/master node4, node5, node6, node7, node8 and 2 more are not hosts of spec.hosts',
      '/spec/roleGroups/worker node10, node11, node12, node13, node14 and 86 more are not hosts of spec.hosts',
    ]);
    const dir = dataDir();
    const store = new ClusterStore(dir);
    store.import(text);
    expect(parse(store.plainConfig('sample'))).toEqual(parse(text));
    // The passwords are nowhere in the data dir in clear.
    expect(() => execFileSync('grep', ['-r', '-l', 'Qcloud@123', dir])).toThrow();
    expect(readFileSync(join(store.dir('sample'), 'cluster.yaml'), 'utf8')).toContain(SECRET_REF_PREFIX);
  });

  it("keeps the documents beside the Cluster (KubeSphere's installer) in order", () => {
    const text = `${kkCreateConfig('ks', 'v1.28.15', 'docker')}---\napiVersion: installer.kubesphere.io/v1alpha1\nkind: ClusterConfiguration\nmetadata:\n  name: ks-installer\n`;
    const file = parseConfigFile(text);
    expect(file.others).toHaveLength(1);
    const again = parseConfigFile(renderConfigFile(file));
    expect(again.cluster).toEqual(file.cluster);
    expect(parse(again.others[0]!)).toEqual({
      apiVersion: 'installer.kubesphere.io/v1alpha1',
      kind: 'ClusterConfiguration',
      metadata: { name: 'ks-installer' },
    });
  });
});

describe('validation', () => {
  it("accepts the wizard's config and says which step each issue belongs to", () => {
    expect(errors(validator.validate(wizardConfig()))).toEqual([]);
    expect(stepOf('/spec/hosts/1/address')).toBe('hosts');
    expect(stepOf('/spec/network/kubePodsCIDR')).toBe('network');
    expect(stepOf('/spec/dns')).toBe('confirm');
  });

  const cases: [string, (c: ClusterConfig) => void, string[]][] = [
    [
      'pods and services overlap',
      (c) => (c.spec.network!.kubeServiceCIDR = '10.233.64.0/24'),
      ['/spec/network/kubeServiceCIDR 10.233.64.0/24 overlaps the pod CIDR 10.233.64.0/18'],
    ],
    [
      'pod CIDR smaller than a node range',
      (c) => (c.spec.network!.kubePodsCIDR = '10.233.64.0/25'),
      [
        "/spec/network/kubePodsCIDR 10.233.64.0/25 is not larger than one node's /24: make the prefix shorter",
      ],
    ],
    [
      'pod CIDR too small for the hosts',
      (c) => (c.spec.network!.kubePodsCIDR = '10.233.64.0/23'),
      ['/spec/network/kubePodsCIDR 10.233.64.0/23 holds 2 node ranges of /24, fewer than the 3 hosts'],
    ],
    [
      'pod CIDR holding a host',
      (c) => (c.spec.network!.kubePodsCIDR = '192.168.0.0/16'),
      [
        '/spec/network/kubePodsCIDR 192.168.0.0/16 holds the address of node1, node2, node3: pods and hosts must not share addresses',
      ],
    ],
    [
      'service CIDR too large',
      (c) => (c.spec.network!.kubeServiceCIDR = '172.0.0.0/8'),
      ['/spec/network/kubeServiceCIDR 172.0.0.0/8 is too large: use /12 or a longer prefix'],
    ],
    [
      'not a CIDR',
      (c) => (c.spec.network!.kubePodsCIDR = '10.233.64.0'),
      ['/spec/network/kubePodsCIDR 10.233.64.0 is not a CIDR (10.233.64.0/18)'],
    ],
    [
      'kube-ovn spelled the common way',
      (c) => (c.spec.network!.plugin = 'kube-ovn'),
      [
        '/spec/network/plugin use calico, flannel, cilium, hybridnet, kubeovn, none (KubeKey spells it kubeovn)',
      ],
    ],
    [
      'two etcd members',
      (c) => (c.spec.roleGroups.etcd = ['node1', 'node2']),
      ['/spec/roleGroups/etcd etcd needs an odd number of members to keep a quorum (1, 3 or 5)'],
    ],
    [
      'a role names no host',
      (c) => c.spec.roleGroups.worker!.push('node9'),
      ['/spec/roleGroups/worker node9 is not a host of spec.hosts'],
    ],
    [
      'a host with no login',
      (c) => delete c.spec.hosts[2]!.privateKeyPath,
      ['/spec/hosts/2/password give a password or a private key for SSH'],
    ],
    [
      'a duplicate host name',
      (c) => (c.spec.hosts[1]!.name = 'node1'),
      [
        '/spec/hosts/1/name node1 is used by another host',
        '/spec/roleGroups/worker node2 is not a host of spec.hosts',
      ],
    ],
    [
      'a bad address',
      (c) => (c.spec.hosts[0]!.address = 'not an address'),
      ['/spec/hosts/0/address give the IP address or DNS name the installer reaches this host on over SSH'],
    ],
    [
      'an unknown arch',
      (c) => (c.spec.hosts[0]!.arch = 'riscv64'),
      ['/spec/hosts/0/arch KubeKey installs on amd64 or arm64'],
    ],
    [
      'a CRD type error',
      (c) => ((c.spec.hosts[0] as Record<string, unknown>).port = 'twenty-two'),
      ['/spec/hosts/0/port must be integer', '/spec/hosts/0/port use an SSH port from 1 to 65535'],
    ],
    [
      'a field neither the CRD nor KubeKey 3 has',
      (c) => ((c.spec.kubernetes as Record<string, unknown>).versoin = 'v1.28.15'),
      ['/spec/kubernetes must NOT have additional properties (versoin)'],
    ],
    [
      'a mirror that is not a URL',
      (c) => (c.spec.registry!.registryMirrors = ['mirror.example.com']),
      ['/spec/registry/registryMirrors/0 a mirror is a URL: https://mirror.example.com'],
    ],
    [
      'a registry login without password',
      (c) => delete c.spec.registry!.auths!['registry.example.com']!.password,
      ['/spec/registry/auths/registry.example.com/password give the password for admin'],
    ],
    [
      'an add-on without source',
      (c) => delete c.spec.addons![0]!.sources,
      ['/spec/addons/0/sources give a Helm chart (name and repo or path) or YAML paths'],
    ],
    [
      'an external etcd without endpoints',
      (c) => (c.spec.etcd = { type: 'external' }),
      ['/spec/etcd/external/endpoints an external etcd needs at least one endpoint'],
    ],
    [
      'a bad version',
      (c) => (c.spec.kubernetes!.version = '1.28'),
      ['/spec/kubernetes/version pick a Kubernetes version such as v1.28.15'],
    ],
  ];
  it.each(cases)('%s', (_what, change, want) => {
    const c = wizardConfig();
    change(c);
    expect(errors(validator.validate(c))).toEqual(want);
  });

  it('warns (does not refuse) an unlisted version, crio and a missing worker group', () => {
    const c = wizardConfig();
    c.spec.kubernetes!.version = 'v1.40.0';
    c.spec.kubernetes!.containerManager = 'crio';
    c.spec.roleGroups.worker = [];
    const issues = validator.validate(c);
    expect(errors(issues)).toEqual([]);
    expect(issues.map((i) => i.path)).toEqual(
      expect.arrayContaining([
        '/spec/kubernetes/version',
        '/spec/kubernetes/containerManager',
        '/spec/roleGroups/worker',
      ]),
    );
  });
});

describe('secrets at rest', () => {
  it('seals passwords and keys with AES-256-GCM under a 0600 key; answers and files hold references only', () => {
    const dir = dataDir();
    const store = new ClusterStore(dir);
    const saved = store.save(wizardConfig(), { create: true });
    expect(JSON.stringify(saved)).not.toMatch(/pw-node1-secret|key-node2-secret|registry-pw-secret/);
    expect(() =>
      execFileSync('grep', ['-r', '-l', '-E', 'pw-node1-secret|key-node2-secret|registry-pw-secret', dir]),
    ).toThrow();
    expect(statSync(join(dir, 'kubekey/secret.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(store.dir('lab'), 'secrets.json')).mode & 0o777).toBe(0o600);
    // Saving the answer back (references, as the browser sends them) keeps the secrets.
    saved.config.spec.hosts[2]!.user = 'admin';
    store.save(saved.config, { create: false });
    const plain = parse(store.plainConfig('lab')) as ClusterConfig;
    expect(plain.spec.hosts[0]!.password).toBe('pw-node1-secret');
    expect(plain.spec.hosts[1]!.privateKey).toContain('key-node2-secret');
    expect(plain.spec.registry!.auths!['registry.example.com']!.password).toBe('registry-pw-secret');
    expect(plain.spec.hosts[2]!.user).toBe('admin');
  });

  it('refuses a reference it does not hold, a key file others can read, and a replaced key', () => {
    const dir = dataDir();
    const store = new ClusterStore(dir);
    const c = wizardConfig();
    c.spec.hosts[0]!.password = `${SECRET_REF_PREFIX}forged`;
    expect(() => store.save(c, { create: true })).toThrow(
      expect.objectContaining({
        code: 'SPROUT_ERR_CONSOLE_CLUSTER_INVALID',
        field: '/spec/hosts/0/password',
      }),
    );
    store.save(wizardConfig(), { create: true });
    writeFileSync(join(dir, 'kubekey/secret.key'), Buffer.alloc(32, 7));
    expect(() => new ClusterStore(dir).plainConfig('lab')).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_CONSOLE_CLUSTER_SECRET_UNREADABLE' }),
    );
    chmodSync(join(dir, 'kubekey/secret.key'), 0o644);
    expect(() => new ClusterStore(dir).plainConfig('lab')).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_CONSOLE_CLUSTER_SECRET_KEY' }),
    );
  });

  it("keeps the wizard's errors out and lets an import with errors in, refusing to run it", () => {
    const store = new ClusterStore(dataDir());
    const c = wizardConfig();
    c.spec.network!.plugin = 'weave';
    expect(() => store.save(c, { create: true })).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_CONSOLE_CLUSTER_INVALID', field: '/spec/network/plugin' }),
    );
    store.import(configExample());
    expect(() => store.assertRunnable('sample')).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_CONSOLE_CLUSTER_INVALID' }),
    );
    expect(() => store.import(configExample())).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_CONSOLE_CLUSTER_EXISTS' }),
    );
    expect(() => store.get('../x')).toThrow(expect.objectContaining({ code: 'SPROUT_ERR_HTTP_UNSAFE_PATH' }));
  });
});

describe('parseConfigFile under fuzzing', () => {
  it('answers random bytes and cut-up configs with a coded error or a config, never anything else', () => {
    const rng = seededRng();
    const sample = kkCreateConfig('fuzz', 'v1.28.15', 'containerd');
    for (let n = 0; n < 300; n++) {
      const text =
        n % 3 === 0
          ? rng.bytes(rng.int(0, 400)).toString('latin1')
          : n % 3 === 1
            ? sample.slice(0, rng.int(0, sample.length))
            : sample.slice(0, rng.int(0, sample.length)) +
              rng.bytes(rng.int(1, 20)).toString('utf8') +
              sample.slice(rng.int(0, sample.length));
      try {
        const f = parseConfigFile(text);
        validator.validate(f.cluster); // whatever parsed must not crash the validator either
      } catch (err) {
        if (!(err instanceof ClusterError)) throw new Error(`seed ${rng.seed}: ${(err as Error).stack}`);
        expect(err.code).toBe('SPROUT_ERR_CONSOLE_CLUSTER_YAML_INVALID');
      }
    }
  });
});
