import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { StateError } from './errors.js';

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const metadataItem = z.strictObject({
  name: z.string().min(1),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  envRef: z.string().min(1).optional(),
  secretKeyRef: z.strictObject({ name: z.string().min(1), key: z.string().optional() }).optional(),
});

const componentSpec = z.strictObject({
  type: z.string().regex(/^[a-z0-9]+\.[a-z0-9.\-_]+$/, 'must look like state.redis'),
  version: z.string().min(1),
  metadata: z.array(metadataItem).default([]),
  ignoreErrors: z.boolean().optional(),
  initTimeout: z.string().optional(),
});

const componentDocument = z.strictObject({
  apiVersion: z.literal('dapr.io/v1alpha1'),
  kind: z.literal('Component'),
  metadata: z.looseObject({
    name: z.string().regex(DNS_NAME, 'must be a lowercase DNS name'),
    namespace: z.string().optional(),
  }),
  spec: componentSpec,
  scopes: z.array(z.string()).optional(),
  auth: z.strictObject({ secretStore: z.string() }).optional(),
});

/** A name/value pair of a component's metadata; the value may come from an env var or a secret. */
export type MetadataItem = z.infer<typeof metadataItem>;
export type ComponentSpec = z.infer<typeof componentSpec>;
/** A Dapr `Component` document (dapr.io/v1alpha1), parsed and validated. */
export type ComponentDocument = z.infer<typeof componentDocument> & {
  /** File (and document index) it was read from, for messages. */
  source?: string;
};

/** The `state.*` types Sprout runs itself. */
export const LOCAL_STATE_TYPES = [
  'state.sqlite',
  'state.redis',
  'state.postgresql',
  'state.in-memory',
] as const;

function invalid(where: string, message: string): never {
  throw new StateError('SPROUT_ERR_STATE_COMPONENT_INVALID', `${where}: ${message}`);
}

/** Validates one parsed YAML/JSON document as a Dapr Component. */
export function parseComponent(doc: unknown, source = 'component'): ComponentDocument {
  const r = componentDocument.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.join('.') || '(document)';
    invalid(source, `${field} ${issue.message}`);
  }
  return { ...r.data, source };
}

/**
 * Reads every `*.yaml` / `*.yml` / `*.json` file in `dir` (not sub-folders), as
 * `dapr run --resources-path` does, and returns the state components (`spec.type` state.*), each
 * validated, including its engine metadata. Other kinds and component types are skipped; a
 * component scoped to other apps is skipped when `appId` is given.
 *
 * @example
 * const components = loadComponents('./components', { appId: 'orders' });
 */
export function loadComponents(
  dir: string,
  options: { appId?: string; env?: NodeJS.ProcessEnv } = {},
): ComponentDocument[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.(ya?ml|json)$/i.test(f))
      .sort();
  } catch (err) {
    throw new StateError(
      'SPROUT_ERR_STATE_COMPONENT_INVALID',
      `cannot read resources folder ${dir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const out: ComponentDocument[] = [];
  const names = new Map<string, string>();
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'), { prettyErrors: true });
    const list = Array.isArray(docs) ? docs : [docs];
    list.forEach((d, i) => {
      const source = list.length > 1 ? `${file}#${i + 1}` : file;
      if (d.errors.length) invalid(source, `invalid YAML: ${d.errors[0]!.message.split('\n')[0]}`);
      const value = d.toJS() as unknown;
      if (value === null || value === undefined) return;
      const kind = (value as { kind?: unknown }).kind;
      if (kind !== 'Component') return;
      const type = (value as { spec?: { type?: unknown } }).spec?.type;
      if (typeof type !== 'string' || !type.startsWith('state.')) {
        if (typeof type !== 'string') parseComponent(value, source); // report the missing type
        return;
      }
      const c = parseComponent(value, source);
      if (options.appId && c.scopes?.length && !c.scopes.includes(options.appId)) return;
      const seen = names.get(c.metadata.name);
      if (seen) invalid(source, `component name "${c.metadata.name}" is already used in ${seen}`);
      names.set(c.metadata.name, source);
      resolveEngineSettings(c, options.env ?? process.env);
      out.push(c);
    });
  }
  return out;
}

/**
 * Resolves a component's metadata to plain strings: `value` as is, `envRef` and `secretKeyRef`
 * from environment variables (a `secretKeyRef` names the variable in `name`, as Dapr's local env
 * secret store does).
 */
export function resolveMetadata(
  c: ComponentDocument,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  const where = c.source ?? c.metadata.name;
  for (const item of c.spec.metadata) {
    if (item.name in out) invalid(where, `spec.metadata "${item.name}" is given twice`);
    let v: string | undefined;
    if (item.value !== undefined) v = String(item.value);
    else if (item.envRef !== undefined || item.secretKeyRef !== undefined) {
      const variable = item.envRef ?? item.secretKeyRef!.name;
      v = env[variable];
      if (v === undefined) {
        throw new StateError(
          'SPROUT_ERR_STATE_SECRET_MISSING',
          `${where}: spec.metadata "${item.name}" reads environment variable ${variable}, which is not set`,
        );
      }
    } else v = '';
    out[item.name] = v;
  }
  return out;
}

const COMMON = ['keyPrefix', 'actorStateStore'];
const ALLOWED: Record<string, string[]> = {
  'state.sqlite': [
    ...COMMON,
    'connectionString',
    'tableName',
    'metadataTableName',
    'timeout',
    'busyTimeout',
    'cleanupInterval',
    'disableWAL',
    'synchronous',
  ],
  'state.redis': [
    ...COMMON,
    'redisHost',
    'redisPassword',
    'redisUsername',
    'redisDB',
    'enableTLS',
    'queryIndexes',
    'dialTimeout',
  ],
  'state.postgresql': [
    ...COMMON,
    'connectionString',
    'tableName',
    'metadataTableName',
    'timeout',
    'cleanupInterval',
    'cleanupIntervalInSeconds',
    'maxConns',
  ],
  'state.in-memory': [...COMMON],
};

/** Typed settings of one local engine, checked from a component's metadata. */
export type EngineSettings =
  | {
      type: 'state.sqlite';
      keyPrefix?: string;
      file?: string;
      table: string;
      busyTimeoutMs: number;
      cleanupIntervalMs: number;
      disableWal: boolean;
      synchronous: 'FULL' | 'NORMAL' | 'OFF';
    }
  | {
      type: 'state.redis';
      keyPrefix?: string;
      host: string;
      username?: string;
      password?: string;
      db: number;
      tls: boolean;
      connectTimeoutMs: number;
    }
  | {
      type: 'state.postgresql';
      keyPrefix?: string;
      connectionString: string;
      table: string;
      timeoutMs: number;
      cleanupIntervalMs: number;
      maxConns: number;
    }
  | { type: 'state.in-memory'; keyPrefix?: string };

/** Checks the metadata of a locally run state component and returns its typed settings. */
export function resolveEngineSettings(
  c: ComponentDocument,
  env: NodeJS.ProcessEnv = process.env,
): EngineSettings {
  const where = c.source ?? c.metadata.name;
  const type = c.spec.type;
  const allowed = ALLOWED[type];
  if (!allowed) {
    invalid(
      where,
      `spec.type "${type}" is not run locally; use one of ${LOCAL_STATE_TYPES.join(', ')} (or a Dapr sidecar)`,
    );
  }
  const md = resolveMetadata(c, env);
  for (const name of Object.keys(md)) {
    if (!allowed.includes(name))
      invalid(where, `spec.metadata "${name}" is not known for ${type} (known: ${allowed.join(', ')})`);
  }
  const bool = (name: string, dflt: boolean): boolean => {
    const v = md[name];
    if (v === undefined || v === '') return dflt;
    if (!/^(true|false)$/i.test(v))
      invalid(where, `spec.metadata "${name}" must be true or false, not "${v}"`);
    return v.toLowerCase() === 'true';
  };
  const duration = (name: string, dflt: number): number => {
    const v = md[name];
    if (v === undefined || v === '') return dflt;
    try {
      return parseDurationText(v);
    } catch {
      invalid(where, `spec.metadata "${name}" must be a duration such as 30s, 5m or 1h, not "${v}"`);
    }
  };
  const int = (name: string, dflt: number, min = 0): number => {
    const v = md[name];
    if (v === undefined || v === '') return dflt;
    if (!/^\d+$/.test(v) || Number(v) < min)
      invalid(where, `spec.metadata "${name}" must be a whole number ≥ ${min}, not "${v}"`);
    return Number(v);
  };
  const table = (dflt: string): string => {
    const v = md.tableName || dflt;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(v)) {
      invalid(
        where,
        `spec.metadata "tableName" "${v}" must be letters, digits and _ (optionally schema.table)`,
      );
    }
    return v;
  };
  const keyPrefix = md.keyPrefix ? { keyPrefix: md.keyPrefix } : {};
  switch (type) {
    case 'state.sqlite': {
      const sync = (md.synchronous || 'FULL').toUpperCase();
      if (sync !== 'FULL' && sync !== 'NORMAL' && sync !== 'OFF')
        invalid(where, 'spec.metadata "synchronous" must be FULL, NORMAL or OFF');
      let file = md.connectionString || undefined;
      if (file?.startsWith('file:')) file = file.slice(5).split('?')[0];
      return {
        type,
        ...keyPrefix,
        ...(file ? { file } : {}),
        table: table('state'),
        busyTimeoutMs: duration('busyTimeout', md.timeout ? duration('timeout', 5000) : 5000),
        cleanupIntervalMs: duration('cleanupInterval', 3_600_000),
        disableWal: bool('disableWAL', false),
        synchronous: sync,
      };
    }
    case 'state.redis': {
      if (!md.redisHost) invalid(where, 'spec.metadata "redisHost" is required (host:port)');
      if (!/^[^:\s]+:\d{1,5}$/.test(md.redisHost))
        invalid(where, `spec.metadata "redisHost" must be host:port, not "${md.redisHost}"`);
      return {
        type,
        ...keyPrefix,
        host: md.redisHost,
        ...(md.redisUsername ? { username: md.redisUsername } : {}),
        ...(md.redisPassword ? { password: md.redisPassword } : {}),
        db: int('redisDB', 0),
        tls: bool('enableTLS', false),
        connectTimeoutMs: duration('dialTimeout', 5000),
      };
    }
    case 'state.postgresql': {
      if (!md.connectionString) invalid(where, 'spec.metadata "connectionString" is required');
      const cleanup =
        md.cleanupIntervalInSeconds !== undefined && md.cleanupInterval === undefined
          ? int('cleanupIntervalInSeconds', 3600) * 1000
          : duration('cleanupInterval', 3_600_000);
      return {
        type,
        ...keyPrefix,
        connectionString: md.connectionString,
        table: table('state'),
        timeoutMs: duration('timeout', 20_000),
        cleanupIntervalMs: cleanup,
        maxConns: int('maxConns', 10, 1),
      };
    }
    default:
      return { type: 'state.in-memory', ...keyPrefix };
  }
}

/** Go-style durations (`500ms`, `30s`, `5m`, `1h30m`) or a bare number of seconds, in ms. */
export function parseDurationText(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  if (!rest) throw new Error('empty duration');
  while (rest.length) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`"${text}" is not a duration`);
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/**
 * Turns the `states` block of an OpenFunction Function (core.openfunction.io/v1beta2,
 * `spec.serving.states`: name → { spec }) into component documents.
 */
export function componentsFromFunctionStates(
  states: Record<string, { spec: unknown }> | undefined,
  namespace?: string,
): ComponentDocument[] {
  return Object.entries(states ?? {}).map(([name, s]) =>
    parseComponent(
      {
        apiVersion: 'dapr.io/v1alpha1',
        kind: 'Component',
        metadata: { name, ...(namespace ? { namespace } : {}) },
        spec: { version: 'v1', ...(s?.spec as object) },
      },
      `states.${name}`,
    ),
  );
}

/**
 * Finds the component a function's `states` entry names (OpenFunction's FUNC_CONTEXT
 * `{ componentName, componentType }`) among loaded components. With no such component, an embedded
 * type (`state.sqlite`, `state.in-memory`) gets a default one, so a function runs with nothing
 * configured; any other type is SPROUT_ERR_STATE_STORE_NOT_FOUND saying which file to add.
 *
 * @example
 * const component = componentForRef({ componentName: 'orders', componentType: 'state.sqlite' }, loaded);
 */
export function componentForRef(
  ref: { componentName: string; componentType?: string },
  components: ComponentDocument[],
): ComponentDocument {
  const found = components.find((c) => c.metadata.name === ref.componentName);
  if (found) {
    if (ref.componentType && ref.componentType !== found.spec.type) {
      invalid(
        found.source ?? found.metadata.name,
        `the function declares "${ref.componentName}" as ${ref.componentType}, but the component is ${found.spec.type}`,
      );
    }
    return found;
  }
  const type = ref.componentType ?? 'state.sqlite';
  if (type === 'state.sqlite' || type === 'state.in-memory') {
    return parseComponent(
      {
        apiVersion: 'dapr.io/v1alpha1',
        kind: 'Component',
        metadata: { name: ref.componentName },
        spec: { type, version: 'v1', metadata: [] },
      },
      `default ${type} for "${ref.componentName}"`,
    );
  }
  throw new StateError(
    'SPROUT_ERR_STATE_STORE_NOT_FOUND',
    `state store "${ref.componentName}" (${type}) has no component: add a Component YAML with metadata.name "${ref.componentName}" to the resources folder`,
  );
}
