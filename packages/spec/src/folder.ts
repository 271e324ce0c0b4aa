import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpecError } from './errors.js';
import { DEFAULT_SCALING, type ResolvedFunction } from './resolved.js';

// What a folder is, without reading any function.yaml: importable alone (`@sprout/spec/folder`) so
// that serving a plain folder loads no YAML parser or schema library.

export const YAML_NAMES = ['function.yaml', 'function.yml'];
const ENTRY_NAMES = [
  'index.ts',
  'index.js',
  'index.mjs',
  'index.cjs',
  'index.mts',
  'index.cts',
  'function.js',
];

/** True when a folder holds a function: a function.yaml, an entry file or a package.json. */
export const isFunctionFolder = (dir: string): boolean =>
  YAML_NAMES.some((f) => existsSync(join(dir, f))) ||
  ENTRY_NAMES.some((f) => existsSync(join(dir, f))) ||
  existsSync(join(dir, 'package.json'));

/** The folder's function.yaml (or function.yml), if it has one. */
export function functionYamlOf(dir: string): string | undefined {
  return YAML_NAMES.map((f) => join(dir, f)).find((f) => existsSync(f));
}

/** The `version` of a folder's package.json as OpenFunction writes versions (`v1.2.0`), if any. */
export function packageVersion(dir: string): string | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  let pkg: { version?: unknown };
  try {
    pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  } catch (err) {
    throw new SpecError(
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
      `${file}: not valid JSON: ${(err as Error).message}`,
    );
  }
  return typeof pkg.version === 'string' && pkg.version ? `v${pkg.version.replace(/^v/, '')}` : undefined;
}

/** A function without function.yaml: an HTTP function with every default. */
export function plainFunction(name: string, dir: string, version = 'v1.0.0'): ResolvedFunction {
  return {
    name,
    namespace: 'default',
    expose: { enabled: true },
    dir,
    version,
    env: {},
    context: { name, version, runtime: 'knative', port: '8080' },
    components: [],
    routes: [],
    engine: 'knative',
    scaling: { ...DEFAULT_SCALING },
    readinessTimeoutMs: 20_000,
    drainTimeoutMs: 30_000,
  };
}
