import type { UseFormReturnType } from '@mantine/form';
import type { ClusterConfig } from './api.js';

/** The wizard's form: the Cluster config itself, so a server issue's path is a form path. */
export type ClusterForm = UseFormReturnType<ClusterConfig>;

/** Every error under a path (a list's items, a map's keys), joined for the field that edits them. */
export function errorsUnder(form: ClusterForm, prefix: string): string | undefined {
  const found = Object.entries(form.errors)
    .filter(([k]) => k === prefix || k.startsWith(`${prefix}.`))
    .map(([, v]) => String(v));
  return found.length > 0 ? found.join('; ') : undefined;
}
