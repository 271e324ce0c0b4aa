import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { FrameworkError } from '../errors.js';

const ENTRY_CANDIDATES = [
  'index.js',
  'index.mjs',
  'index.cjs',
  'index.ts',
  'index.mts',
  'index.cts',
  'function.js',
];
const TS_EXT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** Where a function's code is: the entry file and the folder it belongs to. */
export interface FunctionModule {
  /** Absolute path of the entry file. */
  file: string;
  /** The source folder (the package root when there is one). */
  dir: string;
  /** True when the entry is TypeScript and needs the transform hooks. */
  typescript: boolean;
}

/**
 * Finds the entry file of a function: `source` may be a file, or a folder whose package.json
 * `main` names it, or a folder with an index file (JS or TS), or `function.js` as the anchors' fallback.
 */
export function resolveFunctionModule(source: string): FunctionModule {
  const abs = resolve(source || '.');
  if (!existsSync(abs)) {
    throw new FrameworkError('SPROUT_ERR_FRAMEWORK_MODULE_NOT_FOUND', `source "${source}" does not exist`, {
      field: '--source',
    });
  }
  if (statSync(abs).isFile()) return { file: abs, dir: dirname(abs), typescript: TS_EXT.has(extname(abs)) };
  const pkgPath = join(abs, 'package.json');
  if (existsSync(pkgPath)) {
    let main: unknown;
    try {
      main = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { main?: unknown }).main;
    } catch (err) {
      throw new FrameworkError(
        'SPROUT_ERR_FRAMEWORK_MODULE_NOT_FOUND',
        `${pkgPath} is not valid JSON: ${(err as Error).message}`,
        { field: '--source' },
      );
    }
    if (typeof main === 'string') {
      const file = findFile(join(abs, main));
      if (!file) {
        throw new FrameworkError(
          'SPROUT_ERR_FRAMEWORK_MODULE_NOT_FOUND',
          `package.json "main" points to ${main}, which does not exist in ${abs}`,
          { field: 'main' },
        );
      }
      return { file, dir: abs, typescript: TS_EXT.has(extname(file)) };
    }
  }
  for (const name of ENTRY_CANDIDATES) {
    const file = join(abs, name);
    if (existsSync(file)) return { file, dir: abs, typescript: TS_EXT.has(extname(file)) };
  }
  throw new FrameworkError(
    'SPROUT_ERR_FRAMEWORK_MODULE_NOT_FOUND',
    `no function module in ${abs}: add index.ts or index.js, or set "main" in package.json`,
    { field: '--source' },
  );
}

/** A path as given, or with a JS/TS extension or index file added, as Node's resolver would. */
function findFile(p: string): string | undefined {
  if (existsSync(p) && statSync(p).isFile()) return p;
  for (const ext of ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']) if (existsSync(p + ext)) return p + ext;
  if (existsSync(p) && statSync(p).isDirectory()) {
    for (const name of ENTRY_CANDIDATES) if (existsSync(join(p, name))) return join(p, name);
  }
  // A TypeScript project's main often names the compiled .js; run the .ts next to it instead.
  const ts = p.replace(/\.(c|m)?js$/, '.$1ts');
  return ts !== p && existsSync(ts) ? ts : undefined;
}
