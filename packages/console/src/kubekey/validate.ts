import { isIP } from 'node:net';
import { join } from 'node:path';
import { createManifestValidator, vendoredCrdsDir, type ManifestValidator } from '@sprout/kube';
import { cidrContains, cidrsOverlap, parseCidrList, type Cidr } from './cidr.js';
import {
  ARCHES,
  CONTAINER_MANAGERS,
  ETCD_TYPES,
  NETWORK_PLUGINS,
  OTHER_CONTAINER_MANAGERS,
  expandRoleMembers,
  type ClusterConfig,
  type HostSpec,
} from './config.js';
import type { FieldIssue } from './errors.js';
import { KUBERNETES_VERSIONS } from './versions.js';

/**
 * Fields KubeKey v3.1.12's Go types (`cmd/kk/apis/kubekey/v1alpha2/*_types.go`) have and the
 * vendored v2.3.2 CRD does not: where the CRD calls one of these undeclared, it is accepted.
 */
const V3_ONLY_FIELDS: [RegExp, readonly string[]][] = [
  [/^\/spec$/, ['dns', 'storage']],
  [/^\/spec\/hosts\/\d+$/, ['timeout']],
  [/^\/spec\/controlPlaneEndpoint$/, ['externalDNS', 'kubevip']],
  [
    /^\/spec\/system$/,
    ['rpms', 'debs', 'preInstall', 'postClusterInstall', 'postInstall', 'skipConfigureOS'],
  ],
  [
    /^\/spec\/etcd$/,
    [
      'port',
      'peerPort',
      'extraArgs',
      'dataDir',
      'heartbeatInterval',
      'electionTimeout',
      'snapshotCount',
      'autoCompactionRetention',
      'metrics',
      'quotaBackendBytes',
      'maxRequestBytes',
      'maxSnapshots',
      'maxWals',
      'logLevel',
    ],
  ],
  [
    /^\/spec\/kubernetes$/,
    ['disableKubeProxy', 'podPidsLimit', 'nodeCidrMaskSizeIPv6', 'autoRenewCerts', 'audit', 'nvidiaRuntime'],
  ],
  [/^\/spec\/network$/, ['hybridnet']],
  [
    /^\/spec\/network\/calico$/,
    ['ipAutoDetectionMethod', 'ipv4NatOutgoing', 'ipv6NatOutgoing', 'defaultIPPOOL', 'typha', 'controller'],
  ],
  [
    /^\/spec\/network\/kubeovn$/,
    [
      'tunnelType',
      'svcYamlIpfamilypolicy',
      'dpdk',
      'ovs-ovn',
      'kube-ovn-controller',
      'kube-ovn-cni',
      'kube-ovn-pinger',
    ],
  ],
  [
    /^\/spec\/registry$/,
    [
      'containerdDataDir',
      'dockerDataDir',
      'registryDataDir',
      'bridgeIP',
      'namespaceRewrite',
      'remoteMirrors',
    ],
  ],
  [/^\/spec\/addons\/\d+$/, ['preInstall', 'postInstall']],
  [/^\/spec\/addons\/\d+\/sources\/chart$/, ['wait']],
  [/^\/spec\/addons\/\d+\/sources\/yaml$/, ['values']],
];

const KUBEKEY_CRDS = (): string => join(vendoredCrdsDir(), 'kubekey');

/** Checks Cluster configs: the vendored CRD (with KubeKey 3.x's fields) and what kk would trip on. */
export interface ClusterValidator {
  /** Every issue, errors and warnings, each at a JSON pointer. */
  validate(config: unknown): FieldIssue[];
}

export function createClusterValidator(): ClusterValidator {
  let crd: ManifestValidator | undefined;
  return {
    validate(config) {
      crd ??= createManifestValidator(KUBEKEY_CRDS());
      const issues: FieldIssue[] = [];
      for (const i of crd.validate(config).issues) {
        if (!isV3Field(i.path, i.message)) issues.push({ ...i, severity: 'error' });
      }
      if (issues.some((i) => i.path === '' || i.path === '/apiVersion' || i.path === '/spec')) return issues;
      return [...issues, ...semanticIssues(config as ClusterConfig)];
    },
  };
}

function isV3Field(path: string, message: string): boolean {
  const field = /additional properties \((.+)\)$/.exec(message)?.[1];
  if (field === undefined) return false;
  return V3_ONLY_FIELDS.some(([re, names]) => re.test(path) && names.includes(field));
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;
const HOST_PORT = /^[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._/-]*)?$/;

function semanticIssues(c: ClusterConfig): FieldIssue[] {
  const out: FieldIssue[] = [];
  const err = (path: string, message: string) => out.push({ path, message, severity: 'error' });
  const warn = (path: string, message: string) => out.push({ path, message, severity: 'warning' });

  const name = c.metadata?.name;
  if (typeof name !== 'string' || name.length > 63 || !DNS_LABEL.test(name)) {
    err(
      '/metadata/name',
      'use lower-case letters, digits and -, at most 63 characters (it names the saved config)',
    );
  }
  const hosts = Array.isArray(c.spec.hosts) ? c.spec.hosts : [];
  if (hosts.length === 0) err('/spec/hosts', 'add at least one host');
  const names = new Set<string>();
  hosts.forEach((h, i) => hostIssues(h, `/spec/hosts/${i}`, names, err, warn));

  const roles = c.spec.roleGroups ?? {};
  for (const [role, members] of Object.entries(roles)) {
    if (!Array.isArray(members)) continue;
    const missing = expandRoleMembers(members).filter((m) => !names.has(m));
    if (missing.length > 0) {
      const shown =
        missing.length > 5
          ? `${missing.slice(0, 5).join(', ')} and ${missing.length - 5} more`
          : missing.join(', ');
      err(
        `/spec/roleGroups/${role}`,
        `${shown} ${missing.length === 1 ? 'is not a host' : 'are not hosts'} of spec.hosts`,
      );
    }
  }
  const controlPlane = [...(roles['control-plane'] ?? []), ...(roles.master ?? [])];
  if (controlPlane.length === 0)
    err('/spec/roleGroups/control-plane', 'pick at least one control-plane host');
  if (roles['control-plane'] && roles.master) {
    warn('/spec/roleGroups/master', 'both master and control-plane are set; KubeKey 3 reads control-plane');
  }
  if (!roles.worker || roles.worker.length === 0) {
    warn('/spec/roleGroups/worker', 'no worker: workloads will run only where the control plane allows them');
  }
  etcdIssues(c, roles, err);
  kubernetesIssues(c, err, warn);
  networkIssues(c, hosts, err);
  registryIssues(c, err);
  addonIssues(c, err);
  const port = c.spec.controlPlaneEndpoint?.port;
  if (port !== undefined && !validPort(port))
    err('/spec/controlPlaneEndpoint/port', 'use a port from 1 to 65535');
  return out;
}

type Report = (path: string, message: string) => void;

function validPort(p: unknown): boolean {
  return Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
}

function hostIssues(h: HostSpec, at: string, names: Set<string>, err: Report, warn: Report): void {
  if (!h || typeof h !== 'object') return;
  if (typeof h.name !== 'string' || !HOSTNAME.test(h.name)) {
    err(`${at}/name`, 'give the node a name: letters, digits, - and .');
  } else if (names.has(h.name)) err(`${at}/name`, `${h.name} is used by another host`);
  else names.add(h.name);
  if (typeof h.address !== 'string' || !(isIP(h.address) || HOSTNAME.test(h.address))) {
    err(`${at}/address`, 'give the IP address or DNS name the installer reaches this host on over SSH');
  }
  if (h.internalAddress !== undefined && h.internalAddress !== '') {
    const bad = String(h.internalAddress)
      .split(',')
      .filter((a) => !isIP(a.trim()));
    if (bad.length > 0)
      err(`${at}/internalAddress`, `${bad.join(', ')} is not an IP address (IPv4, or IPv4,IPv6)`);
  }
  if (h.port !== undefined && !validPort(h.port)) err(`${at}/port`, 'use an SSH port from 1 to 65535');
  if (!h.password && !h.privateKey && !h.privateKeyPath) {
    err(`${at}/password`, 'give a password or a private key for SSH');
  }
  if (h.arch !== undefined && !(ARCHES as readonly string[]).includes(h.arch)) {
    err(`${at}/arch`, `KubeKey installs on ${ARCHES.join(' or ')}`);
  }
  if (!h.user) warn(`${at}/user`, 'no user: KubeKey logs in as root');
}

function etcdIssues(c: ClusterConfig, roles: Record<string, string[]>, err: Report): void {
  const type = c.spec.etcd?.type ?? 'kubekey';
  if (!(ETCD_TYPES as readonly string[]).includes(type)) {
    err('/spec/etcd/type', `use ${ETCD_TYPES.join(', ')}`);
  } else if (type === 'external') {
    const eps = c.spec.etcd?.external?.endpoints ?? [];
    if (eps.length === 0)
      err('/spec/etcd/external/endpoints', 'an external etcd needs at least one endpoint');
    eps.forEach((e, i) => {
      if (!/^https?:\/\/[^\s/]+/.test(String(e))) {
        err(`/spec/etcd/external/endpoints/${i}`, 'write it as https://host:2379');
      }
    });
  } else {
    const etcd = roles.etcd ?? [];
    if (etcd.length === 0)
      err('/spec/roleGroups/etcd', 'pick the hosts that run etcd (an odd number: 1, 3 or 5)');
    else if (expandRoleMembers(etcd).length % 2 === 0) {
      err('/spec/roleGroups/etcd', 'etcd needs an odd number of members to keep a quorum (1, 3 or 5)');
    }
  }
}

function kubernetesIssues(c: ClusterConfig, err: Report, warn: Report): void {
  const k = c.spec.kubernetes ?? {};
  if (typeof k.version !== 'string' || !/^v\d+\.\d+\.\d+$/.test(k.version)) {
    err('/spec/kubernetes/version', 'pick a Kubernetes version such as v1.28.15');
  } else if (!KUBERNETES_VERSIONS.includes(k.version)) {
    warn('/spec/kubernetes/version', `${k.version} is not in KubeKey v3.1.12's supported list`);
  }
  const cm = k.containerManager;
  if (cm !== undefined) {
    if ((OTHER_CONTAINER_MANAGERS as readonly string[]).includes(cm)) {
      warn(
        '/spec/kubernetes/containerManager',
        `${cm} is kept as imported; the wizard offers containerd and docker`,
      );
    } else if (!(CONTAINER_MANAGERS as readonly string[]).includes(cm)) {
      err('/spec/kubernetes/containerManager', `use ${CONTAINER_MANAGERS.join(' or ')}`);
    }
  }
}

function networkIssues(c: ClusterConfig, hosts: HostSpec[], err: Report): void {
  const n = c.spec.network ?? {};
  if (
    n.plugin !== undefined &&
    n.plugin !== '' &&
    !(NETWORK_PLUGINS as readonly string[]).includes(n.plugin)
  ) {
    const hint = n.plugin === 'kube-ovn' ? ' (KubeKey spells it kubeovn)' : '';
    err('/spec/network/plugin', `use ${NETWORK_PLUGINS.join(', ')}${hint}`);
  }
  const mask = Number(c.spec.kubernetes?.nodeCidrMaskSize ?? 24);
  const pods = cidrField(n.kubePodsCIDR, '/spec/network/kubePodsCIDR', err);
  const services = cidrField(n.kubeServiceCIDR, '/spec/network/kubeServiceCIDR', err);
  for (const p of pods) {
    if (p.family === 4) {
      if (p.prefix >= mask) {
        err(
          '/spec/network/kubePodsCIDR',
          `${p.text} is not larger than one node's /${mask}: make the prefix shorter`,
        );
      } else if (2 ** (mask - p.prefix) < hosts.length) {
        err(
          '/spec/network/kubePodsCIDR',
          `${p.text} holds ${2 ** (mask - p.prefix)} node ranges of /${mask}, fewer than the ${hosts.length} hosts`,
        );
      }
    }
    for (const s of services) {
      if (cidrsOverlap(p, s))
        err('/spec/network/kubeServiceCIDR', `${s.text} overlaps the pod CIDR ${p.text}`);
    }
    const clashing = hosts.filter((h) =>
      [h.address, ...String(h.internalAddress ?? '').split(',')].some(
        (a) => isIP(String(a).trim()) && cidrContains(p, String(a).trim()),
      ),
    );
    if (clashing.length > 0) {
      err(
        '/spec/network/kubePodsCIDR',
        `${p.text} holds the address of ${clashing.map((h) => h.name).join(', ')}: pods and hosts must not share addresses`,
      );
    }
  }
  for (const s of services) {
    if (s.family === 4 && s.prefix < 12)
      err('/spec/network/kubeServiceCIDR', `${s.text} is too large: use /12 or a longer prefix`);
    if (s.family === 6 && s.prefix < 108)
      err('/spec/network/kubeServiceCIDR', `${s.text} is too large: use /108 or a longer prefix`);
    if (s.family === 4 && s.prefix > 28)
      err(
        '/spec/network/kubeServiceCIDR',
        `${s.text} has too few addresses for the cluster's services: use /28 or shorter`,
      );
  }
}

function cidrField(value: unknown, path: string, err: Report): Cidr[] {
  if (value === undefined || value === '') return [];
  const { cidrs, bad } = parseCidrList(String(value));
  if (bad.length > 0) err(path, `${bad.join(', ')} is not a CIDR (10.233.64.0/18)`);
  if (cidrs.length > 2 || (cidrs.length === 2 && cidrs[0]!.family === cidrs[1]!.family)) {
    err(path, 'give one IPv4 CIDR, optionally followed by one IPv6 CIDR');
  }
  return cidrs;
}

function registryIssues(c: ClusterConfig, err: Report): void {
  const r = c.spec.registry ?? {};
  (r.registryMirrors ?? []).forEach((m, i) => {
    if (!/^https?:\/\/[^\s/]+/.test(String(m)))
      err(`/spec/registry/registryMirrors/${i}`, 'a mirror is a URL: https://mirror.example.com');
  });
  (r.insecureRegistries ?? []).forEach((m, i) => {
    if (!HOST_PORT.test(String(m))) err(`/spec/registry/insecureRegistries/${i}`, 'write host or host:port');
  });
  if (r.privateRegistry && !HOST_PORT.test(r.privateRegistry)) {
    err('/spec/registry/privateRegistry', 'write host, host:port or host:port/path');
  }
  for (const [host, a] of Object.entries(r.auths ?? {})) {
    if (!HOST_PORT.test(host))
      err(`/spec/registry/auths/${host}`, 'key the credentials by registry host or host:port');
    if (a && typeof a === 'object' && a.username && !a.password) {
      err(`/spec/registry/auths/${host}/password`, `give the password for ${a.username}`);
    }
  }
}

function addonIssues(c: ClusterConfig, err: Report): void {
  const seen = new Set<string>();
  (c.spec.addons ?? []).forEach((a, i) => {
    if (!a || typeof a !== 'object') return;
    if (!a.name) err(`/spec/addons/${i}/name`, 'name the add-on');
    else if (seen.has(a.name)) err(`/spec/addons/${i}/name`, `${a.name} is listed twice`);
    else seen.add(a.name);
    const chart = a.sources?.chart;
    const yaml = a.sources?.yaml;
    if (!chart && !yaml)
      err(`/spec/addons/${i}/sources`, 'give a Helm chart (name and repo or path) or YAML paths');
    if (chart && !chart.name && !chart.path)
      err(`/spec/addons/${i}/sources/chart/name`, 'name the chart (or give a local path)');
    if (yaml && (!yaml.path || yaml.path.length === 0))
      err(`/spec/addons/${i}/sources/yaml/path`, 'give at least one manifest path or URL');
  });
}
