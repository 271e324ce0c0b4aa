/** The role groups the wizard sets per host (KubeKey 3's names). */
export const ROLES = [
  { role: 'etcd', label: 'etcd' },
  { role: 'control-plane', label: 'Control plane' },
  { role: 'worker', label: 'Worker' },
] as const;
