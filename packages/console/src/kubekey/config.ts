import { DEFAULT_KUBERNETES_VERSION } from './versions.js';

// A typed view of KubeKey's `kubekey.kubesphere.io/v1alpha2` `Cluster` (the `kk` 3.x config file),
// after the v3.1.12 Go types. Every object keeps fields it does not name (`[k: string]: unknown`),
// so an imported config round-trips with whatever else it holds.

export const CLUSTER_API_VERSION = 'kubekey.kubesphere.io/v1alpha2';
export const CLUSTER_KIND = 'Cluster';

/** What a secret field holds on disk and in API answers: this prefix and the secret's id. */
export const SECRET_REF_PREFIX = 'sprout-secret:';

type Open = Record<string, unknown>;

export interface HostSpec extends Open {
  name: string;
  address: string;
  internalAddress?: string;
  port?: number;
  user?: string;
  /** On disk and in API answers: a secret reference (`sprout-secret:<id>`), never the password. */
  password?: string;
  /** As `password`: PEM text in, a reference out. */
  privateKey?: string;
  /** A key file on the machine that runs kk (and the pre-flight). */
  privateKeyPath?: string;
  arch?: string;
  labels?: Record<string, string>;
}

interface RegistryAuth extends Open {
  username?: string;
  password?: string;
  skipTLSVerify?: boolean;
  plainHTTP?: boolean;
  certsPath?: string;
}

interface Addon extends Open {
  name: string;
  namespace?: string;
  sources?: {
    chart?: { name?: string; repo?: string; path?: string; version?: string; values?: string[] } & Open;
    yaml?: { path?: string[] } & Open;
  };
}

export interface ClusterSpec extends Open {
  hosts: HostSpec[];
  /** `etcd`, `control-plane` (or the older `master`), `worker`, `registry`: host names or ranges (`node[2:10]`). */
  roleGroups: Record<string, string[]>;
  controlPlaneEndpoint?: {
    internalLoadbalancer?: string;
    domain?: string;
    address?: string;
    port?: number;
  } & Open;
  etcd?: { type?: string; external?: { endpoints?: string[] } & Open } & Open;
  kubernetes?: {
    version?: string;
    clusterName?: string;
    autoRenewCerts?: boolean;
    containerManager?: string;
    nodeCidrMaskSize?: number;
  } & Open;
  network?: { plugin?: string; kubePodsCIDR?: string; kubeServiceCIDR?: string } & Open;
  registry?: {
    registryMirrors?: string[];
    insecureRegistries?: string[];
    privateRegistry?: string;
    namespaceOverride?: string;
    auths?: Record<string, RegistryAuth>;
  } & Open;
  addons?: Addon[];
}

export interface ClusterConfig extends Open {
  apiVersion: string;
  kind: string;
  metadata: { name: string } & Open;
  spec: ClusterSpec;
}

/** The container managers the wizard offers; KubeKey also knows `crio` and `isula` (accepted with a warning). */
export const CONTAINER_MANAGERS = ['containerd', 'docker'] as const;
export const OTHER_CONTAINER_MANAGERS = ['crio', 'isula'] as const;
/** KubeKey's spellings (`kubeovn`, not `kube-ovn`); `none` installs no CNI. */
export const NETWORK_PLUGINS = ['calico', 'flannel', 'cilium', 'hybridnet', 'kubeovn', 'none'] as const;
export const ETCD_TYPES = ['kubekey', 'kubeadm', 'external'] as const;
export const ARCHES = ['amd64', 'arm64'] as const;

/** The wizard's steps and the parts of the config each edits: a field issue shows on the step owning its path. */
export const WIZARD_STEPS = [
  { id: 'hosts', title: 'Hosts', paths: ['/metadata', '/spec/hosts', '/spec/roleGroups'] },
  { id: 'etcd', title: 'etcd', paths: ['/spec/etcd'] },
  { id: 'cluster', title: 'Cluster', paths: ['/spec/kubernetes', '/spec/controlPlaneEndpoint'] },
  { id: 'network', title: 'Network', paths: ['/spec/network'] },
  { id: 'registry', title: 'Registry', paths: ['/spec/registry'] },
  { id: 'addons', title: 'Add-ons', paths: ['/spec/addons'] },
  { id: 'confirm', title: 'Confirm', paths: [] },
] as const;

/** The step an issue at `path` belongs to (the confirm step for anything no other step edits). */
export function stepOf(path: string): (typeof WIZARD_STEPS)[number]['id'] {
  const step = WIZARD_STEPS.find((s) => s.paths.some((p) => path === p || path.startsWith(`${p}/`)));
  return step?.id ?? 'confirm';
}

/**
 * A new config as `kk create config` writes it (KubeKey v3.1.12's template: control-plane endpoint,
 * kubekey etcd, calico with 10.233.64.0/18 pods and 10.233.0.0/18 services), with no hosts yet.
 */
export function defaultCluster(name: string): ClusterConfig {
  return {
    apiVersion: CLUSTER_API_VERSION,
    kind: CLUSTER_KIND,
    metadata: { name },
    spec: {
      hosts: [],
      roleGroups: { etcd: [], 'control-plane': [], worker: [] },
      controlPlaneEndpoint: { domain: 'lb.kubesphere.local', address: '', port: 6443 },
      kubernetes: {
        version: DEFAULT_KUBERNETES_VERSION,
        clusterName: 'cluster.local',
        autoRenewCerts: true,
        containerManager: 'containerd',
      },
      etcd: { type: 'kubekey' },
      network: { plugin: 'calico', kubePodsCIDR: '10.233.64.0/18', kubeServiceCIDR: '10.233.0.0/18' },
      registry: { privateRegistry: '', namespaceOverride: '', registryMirrors: [], insecureRegistries: [] },
      addons: [],
    },
  };
}

/** What the cluster list shows for one saved config. */
export interface ClusterSummary {
  name: string;
  nodes: number;
  kubernetesVersion: string;
  networkPlugin: string;
  containerManager: string;
}

export function summarize(c: ClusterConfig): ClusterSummary {
  return {
    name: c.metadata.name,
    nodes: Array.isArray(c.spec.hosts) ? c.spec.hosts.length : 0,
    kubernetesVersion: c.spec.kubernetes?.version ?? '',
    networkPlugin: c.spec.network?.plugin ?? '',
    // KubeKey's default when the field is absent.
    containerManager: c.spec.kubernetes?.containerManager ?? 'docker',
  };
}

/**
 * The hosts a role group names, with KubeKey's range form expanded (`node[2:10]` → node2 … node10).
 */
export function expandRoleMembers(members: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const m of members) {
    if (typeof m !== 'string') continue;
    const r = /^(.*)\[(\d+):(\d+)\](.*)$/.exec(m);
    if (!r) {
      out.push(m);
      continue;
    }
    const from = Number(r[2]);
    const to = Number(r[3]);
    // A range is a short list of names; a huge one is a typo and is not expanded.
    if (to < from || to - from > 1000) out.push(m);
    else for (let i = from; i <= to; i++) out.push(`${r[1]}${i}${r[4]}`);
  }
  return out;
}
