import type { ComponentDocument } from './component.js';
import { SpecError } from './errors.js';

// Kept apart from the schemas (no zod here): an instance resolves its components at start-up
// through `@sprout/spec/secrets` without loading a schema library on the cold path.

/**
 * Resolves a component's metadata to plain strings: `value` as is; `envRef` and `secretKeyRef` from
 * environment variables, as Dapr's local environment secret store does (the variable is the
 * secret's `name`; that store has one key per secret, so a `key` other than the name is refused).
 * This is the one place a secret is read, for state stores, bindings and pub/sub alike.
 */
export function resolveMetadata(
  c: ComponentDocument,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  const source = c.source ?? c.metadata.name;
  // An item of a component read from a file is named by its line (the last one written, for a name given twice).
  const where = (name: string) => c.metadataAt?.[name]?.name ?? source;
  for (const item of c.spec.metadata) {
    if (item.name in out) {
      throw new SpecError(
        'SPROUT_ERR_SPEC_INVALID_COMPONENT',
        `${where(item.name)}: spec.metadata "${item.name}" is given twice`,
        {
          field: `spec.metadata.${item.name}`,
        },
      );
    }
    let v = '';
    if (item.value !== undefined) v = String(item.value);
    else if (item.envRef !== undefined || item.secretKeyRef !== undefined) {
      const ref = item.secretKeyRef;
      if (ref?.key !== undefined && ref.key !== ref.name) {
        throw new SpecError(
          'SPROUT_ERR_SPEC_INVALID_COMPONENT',
          `${where(item.name)}: spec.metadata "${item.name}" secretKeyRef key "${ref.key}" differs from its name "${ref.name}"; the local environment secret store has one key per variable, named like it`,
          { field: `spec.metadata.${item.name}.secretKeyRef.key` },
        );
      }
      const variable = item.envRef ?? ref!.name;
      const found = env[variable];
      if (found === undefined) {
        throw new SpecError(
          'SPROUT_ERR_SPEC_SECRET_MISSING',
          `${where(item.name)}: spec.metadata "${item.name}" reads environment variable ${variable}, which is not set`,
          { field: `spec.metadata.${item.name}` },
        );
      }
      v = found;
    }
    out[item.name] = v;
  }
  return out;
}

/** A component with every metadata value resolved (what an instance is handed: no env lookups left). */
export function resolveComponent(
  c: ComponentDocument,
  env: NodeJS.ProcessEnv = process.env,
): ComponentDocument {
  const values = resolveMetadata(c, env);
  return {
    ...c,
    spec: { ...c.spec, metadata: Object.entries(values).map(([name, value]) => ({ name, value })) },
  };
}
