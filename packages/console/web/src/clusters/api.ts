// The cluster installer's calls to /v1/clusters (see src/kubekey/routes.ts), typed with the
// server's own model (src/kubekey/config.ts is plain data, shared by both sides).
import { api } from '../api/client.js';
// This package's own Cluster model (plain data, no Node APIs), the one the server validates with.
// eslint-disable-next-line no-restricted-imports -- same package, not another package's internals
import type { ClusterConfig, ClusterSummary } from '../../../src/kubekey/config.js';

// eslint-disable-next-line no-restricted-imports -- as above
export { SECRET_REF_PREFIX, WIZARD_STEPS, stepOf, type HostSpec } from '../../../src/kubekey/config.js';
export type { ClusterConfig, ClusterSummary };

export interface FieldIssue {
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface RunRecord {
  id: string;
  cluster: string;
  action: string;
  params: { node?: string; version?: string };
  command: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  exitCode?: number | null;
  signal?: string | null;
}

export interface SavedCluster {
  summary: ClusterSummary;
  config: ClusterConfig;
  yaml: string;
  issues: FieldIssue[];
  running: RunRecord | null;
}

export interface PreflightCheck {
  id: string;
  title: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

export interface PreflightReport {
  status: PreflightCheck['status'];
  hosts: { host: string; address: string; status: PreflightCheck['status']; checks: PreflightCheck[] }[];
  cluster: PreflightCheck[];
  durationMs: number;
}

export interface ClusterOptions {
  kubernetesVersions: string[];
  containerManagers: string[];
  networkPlugins: string[];
  etcdTypes: string[];
  arches: string[];
  defaults: ClusterConfig;
  commands: Record<string, string>;
}

const base = '/v1/clusters';
const at = (name: string) => `${base}/${encodeURIComponent(name)}`;

export const clusters = {
  list: () => api.get<{ clusters: (ClusterSummary & { running: RunRecord | null })[] }>(base),
  options: () => api.get<ClusterOptions>(`${base}/-/options`),
  validate: (config: ClusterConfig) =>
    api.post<{ issues: FieldIssue[]; yaml: string }>(`${base}/-/validate`, { config }),
  create: (config: ClusterConfig) => api.post<SavedCluster>(base, { config }),
  update: (config: ClusterConfig) => api.put<SavedCluster>(at(config.metadata.name), { config }),
  import: (yaml: string) => api.post<SavedCluster>(`${base}/-/import`, { yaml }),
  get: (name: string) => api.get<SavedCluster>(at(name)),
  remove: (name: string) => api.del(at(name)),
  yamlUrl: (name: string) => `${at(name)}/yaml`,
  preflight: (name: string, nodes?: string[]) =>
    api.post<PreflightReport>(`${at(name)}/preflight`, nodes ? { nodes } : {}),
  runs: (name: string) => api.get<{ runs: RunRecord[]; running: RunRecord | null }>(`${at(name)}/runs`),
  start: (name: string, action: string, params: { node?: string; version?: string } = {}) =>
    api.post<RunRecord>(`${at(name)}/runs`, { action, ...params }),
  run: (name: string, id: string) => api.get<RunRecord>(`${at(name)}/runs/${encodeURIComponent(id)}`),
  cancel: (name: string, id: string) =>
    api.post<RunRecord>(`${at(name)}/runs/${encodeURIComponent(id)}/cancel`),
  logUrl: (name: string, id: string) => `${at(name)}/runs/${encodeURIComponent(id)}/log`,
};

/** `/spec/hosts/0/address` → `spec.hosts.0.address` (the form's path for a server issue). */
export function formPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}
