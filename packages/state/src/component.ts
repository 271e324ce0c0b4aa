import { parseDuration } from '@sprout/http';
import { componentOf, loadResources, resolveMetadata, type ComponentDocument } from '@sprout/spec';
import { StateError } from './errors.js';
import { pgConnectionConfig } from './engines/pg-conninfo.js';
import { checkMetadataKeys } from './component-schema.js';

/** The default warning: Node's process warning (printed on stderr). */
function processWarning(message: string): void {
  process.emitWarning(message, { code: 'SPROUT_WARN_STATE_METADATA_UNKNOWN' });
}

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

/**
 * Reads the state components (`spec.type` state.*) of a resources folder, as
 * `dapr run --resources-path` does, each checked for an engine Sprout runs, with its metadata.
 * The folder's documents are read and validated by @sprout/spec; other types and kinds are skipped.
 *
 * @example
 * const components = loadComponents('./components', { appId: 'orders' });
 */
export function loadComponents(
  dir: string,
  options: { appId?: string; env?: NodeJS.ProcessEnv; onWarning?: (message: string) => void } = {},
): ComponentDocument[] {
  const { components } = loadResources(dir, options.appId ? { appId: options.appId } : {});
  const out = components.filter((c) => c.spec.type.startsWith('state.'));
  for (const c of out) resolveEngineSettings(c, options.env ?? process.env, options.onWarning);
  return out;
}

const PG_FIELDS = ['host', 'hostaddr', 'port', 'database', 'user', 'password'] as const;

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
  warn: (message: string) => void = processWarning,
): EngineSettings {
  const where = c.source ?? c.metadata.name;
  const type = c.spec.type;
  if (!(LOCAL_STATE_TYPES as readonly string[]).includes(type)) {
    invalid(
      where,
      `spec.type "${type}" is not run locally; use one of ${LOCAL_STATE_TYPES.join(', ')} (or a Dapr sidecar)`,
    );
  }
  const md = resolveMetadata(c, env);
  // A metadata item read from a file is named by its file:line (@sprout/spec keeps where it is):
  // the key's line for a key, the value's line for a value; the field is `spec.metadata.<key>`.
  const at = (name: string, part: 'name' | 'value' = 'value') => c.metadataAt?.[name]?.[part] ?? where;
  const fail: (name: string, message: string) => never = (name, message) => {
    throw new StateError('SPROUT_ERR_STATE_COMPONENT_INVALID', `${at(name)}: ${message}`, {
      field: `spec.metadata.${name}`,
    });
  };
  const refused = checkMetadataKeys(type, md, (m, name) => warn(`${at(name, 'name')}: ${m}`));
  if (refused) fail(refused.name, refused.message);
  const bool = (name: string, dflt: boolean): boolean => {
    const v = md[name];
    if (v === undefined || v === '') return dflt;
    if (!/^(true|false)$/i.test(v)) fail(name, `spec.metadata "${name}" must be true or false, not "${v}"`);
    return v.toLowerCase() === 'true';
  };
  const duration = (name: string, dflt: number): number => {
    const v = md[name];
    if (v === undefined || v === '') return dflt;
    const ms = parseDuration(v, { bareSeconds: true });
    if (ms === undefined)
      fail(name, `spec.metadata "${name}" must be a duration such as 30s, 5m or 1h, not "${v}"`);
    return ms;
  };
  const int = (name: string, dflt: number, min = 0): number => {
    const v = md[name];
    if (v === undefined || v === '') return dflt;
    if (!/^\d+$/.test(v) || Number(v) < min)
      fail(name, `spec.metadata "${name}" must be a whole number ≥ ${min}, not "${v}"`);
    return Number(v);
  };
  const table = (dflt: string): string => {
    const v = md.tableName || dflt;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(v)) {
      fail(
        'tableName',
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
        fail('synchronous', 'spec.metadata "synchronous" must be FULL, NORMAL or OFF');
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
      const hp = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(md.redisHost);
      if (!hp) fail('redisHost', `spec.metadata "redisHost" must be host:port, not "${md.redisHost}"`);
      if (md.redisPort && !/^\d{1,5}$/.test(md.redisPort))
        fail('redisPort', `spec.metadata "redisPort" must be a port number, not "${md.redisPort}"`);
      if (md.redisPort && hp[2] && hp[2] !== md.redisPort)
        fail('redisPort', `spec.metadata "redisPort" ${md.redisPort} differs from the port in redisHost`);
      return {
        type,
        ...keyPrefix,
        host: `${hp[1]}:${hp[2] ?? (md.redisPort || '6379')}`,
        ...(md.redisUsername ? { username: md.redisUsername } : {}),
        ...(md.redisPassword ? { password: md.redisPassword } : {}),
        db: int('redisDB', 0),
        tls: bool('enableTLS', false),
        connectTimeoutMs: duration('dialTimeout', 5000),
      };
    }
    case 'state.postgresql': {
      // host, port, user, … are Dapr's alternative to (or addition to) a keyword/value connectionString.
      const fields = PG_FIELDS.filter((f) => md[f]).map(
        (f) => `${f}='${md[f]!.replace(/[\\']/g, (ch) => `\\${ch}`)}'`,
      );
      if (fields.length && /^postgres(ql)?:\/\//i.test(md.connectionString ?? ''))
        fail(
          'connectionString',
          `spec.metadata ${PG_FIELDS.join('/')} go with a keyword/value connectionString, not a URL`,
        );
      const connectionString = [md.connectionString, ...fields].filter(Boolean).join(' ');
      if (!connectionString) invalid(where, 'spec.metadata "connectionString" is required');
      try {
        pgConnectionConfig(connectionString);
      } catch (err) {
        fail('connectionString', `spec.metadata ${(err as Error).message}`);
      }
      const cleanup =
        md.cleanupIntervalInSeconds !== undefined && md.cleanupInterval === undefined
          ? int('cleanupIntervalInSeconds', 3600) * 1000
          : duration('cleanupInterval', 3_600_000);
      return {
        type,
        ...keyPrefix,
        connectionString,
        table: table('state'),
        timeoutMs: duration('timeout', 20_000),
        cleanupIntervalMs: cleanup,
        maxConns: int('maxConns', 10) || 10, // 0: the driver's default, as in Dapr
      };
    }
    default:
      return { type: 'state.in-memory', ...keyPrefix };
  }
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
    return componentOf(
      ref.componentName,
      { type, metadata: [] },
      `default ${type} for "${ref.componentName}"`,
    );
  }
  throw new StateError(
    'SPROUT_ERR_STATE_STORE_NOT_FOUND',
    `state store "${ref.componentName}" (${type}) has no component: add a Component YAML with metadata.name "${ref.componentName}" to the resources folder`,
  );
}
