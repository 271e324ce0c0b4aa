// Kubernetes naming rules, importable alone (`@sprout/kube/names`): no schema validator is loaded.

/** Makes `s` a DNS-1123 label (lower case, digits, '-', at most 63 characters). */
export function dnsLabel(s: string): string {
  const label = s
    .toLowerCase()
    .replace(/^@[^/]+\//, '')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label || 'function';
}
