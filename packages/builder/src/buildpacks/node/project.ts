import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuilderError } from '../../errors.js';

/** What the Node.js buildpack needs of package.json. */
export interface PackageJson {
  name?: string;
  main?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  /** `pnpm@9.1.0`, `yarn@4.5.0` (Corepack's field): the package manager version to install with. */
  packageManager?: string;
}

/** Names of functions frameworks: a package.json depending on one makes the folder a function. */
const FRAMEWORK_PACKAGES = [
  '@sprout/framework',
  '@openfunction/functions-framework',
  '@google-cloud/functions-framework',
];

/** Files whose presence makes a folder a Node.js app for detection. */
export const ENTRY_FILES = [
  'server.js',
  'app.js',
  'main.js',
  'index.js',
  'index.mjs',
  'index.cjs',
  'index.ts',
];
const FUNCTION_FILES = ['function.yaml', 'function.yml'];

export function readPackageJson(appDir: string): PackageJson | undefined {
  const file = join(appDir, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as PackageJson;
  } catch (err) {
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_SOURCE_INVALID',
      `package.json: ${(err as Error).message}; fix the file and build again`,
      {
        field: 'package.json',
      },
    );
  }
}

/** True for a Sprout / OpenFunction function folder: a function.yaml, or a functions framework dependency. */
export function isFunctionApp(appDir: string, pkg: PackageJson | undefined): boolean {
  if (FUNCTION_FILES.some((f) => existsSync(join(appDir, f)))) return true;
  const deps = { ...pkg?.dependencies, ...pkg?.devDependencies };
  return FRAMEWORK_PACKAGES.some((p) => p in deps);
}

/** True when the folder is something the Node.js buildpack builds. */
export function detectsNode(appDir: string): boolean {
  return (
    existsSync(join(appDir, 'package.json')) ||
    [...FUNCTION_FILES, ...ENTRY_FILES].some((f) => existsSync(join(appDir, f)))
  );
}

const SHELL_CHARS = /[|&;<>()$`\\"'*?[\]#~=%{}\n]/;

/**
 * The command of a plain app (not a function): the start script (run directly when it is a simple
 * `node …` line, else through `sh -c`), else `node server.js` or `node app.js` when present.
 * Undefined otherwise: a folder with only an index file or a package.json `main` is a function,
 * as `sprout run` treats it.
 */
export function startCommand(appDir: string, pkg: PackageJson | undefined): string[] | undefined {
  const start = pkg?.scripts?.start?.trim();
  if (start) {
    const words = start.split(/\s+/);
    if (!SHELL_CHARS.test(start) && words[0] === 'node') return words;
    return ['sh', '-c', start];
  }
  const entry = ['server.js', 'app.js'].find((f) => existsSync(join(appDir, f)));
  return entry ? ['node', entry] : undefined;
}
