import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { FrameworkError } from '../errors.js';
import { withRegistrationScope, type RegisteredFunction } from '../registry.js';
import { ANCHOR_MODULES, installAnchorAliases } from './hooks.js';
import type { FunctionModule } from './resolve.js';

export interface ImportedModule {
  namespace: Record<string, unknown>;
  registered: Map<string, RegisteredFunction>;
  /** Files the module graph loaded (for watching), when known. */
  files: string[];
}

// A native dynamic import, out of reach of bundlers and test runners that rewrite `import()`.
const { nativeImport } = createRequire(import.meta.url)('../../native-import.cjs') as {
  nativeImport: (url: string) => Promise<Record<string, unknown>>;
};

let tsImporter:
  | ((url: string, opts: { parentURL: string; onImport?: (u: string) => void }) => Promise<unknown>)
  | undefined;

/**
 * Imports a function module in a registration scope. TypeScript, and every load when `fresh` is
 * set (watch reloads), go through tsx's namespaced import, which loads a fresh module graph each
 * time and reports the files it loaded; plain JavaScript uses Node's own import.
 */
export async function importFunctionModule(mod: FunctionModule, fresh: boolean): Promise<ImportedModule> {
  if (usesAnchorModules(mod)) installAnchorAliases();
  const files = new Set<string>([mod.file]);
  try {
    const key = fresh ? `${mod.file}#${Date.now()}` : mod.file;
    const { value, registered } = await withRegistrationScope(key, async () => {
      if (!mod.typescript && !fresh) return nativeImport(pathToFileURL(mod.file).href);
      if (fresh) dropCommonJsCache(mod.dir);
      tsImporter ??= (await import('tsx/esm/api')).tsImport as unknown as typeof tsImporter;
      return (await tsImporter!(pathToFileURL(mod.file).href, {
        parentURL: pathToFileURL(`${mod.dir}/`).href,
        onImport: (u) => {
          if (u.startsWith('file:') && !u.includes('/node_modules/')) files.add(new URL(u).pathname);
        },
      })) as Record<string, unknown>;
    });
    return { namespace: value, registered, files: [...files] };
  } catch (err) {
    if (err instanceof FrameworkError) throw err;
    const e = err as NodeJS.ErrnoException;
    const hint =
      e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND'
        ? 'a module it imports is missing: is it listed in package.json dependencies and installed?'
        : 'is there a syntax error, or code that throws at import time?';
    throw new FrameworkError(
      'SPROUT_ERR_FRAMEWORK_MODULE_LOAD_FAILED',
      `loading ${mod.file} failed: ${e.message ?? String(err)} (${hint})`,
      { cause: err },
    );
  }
}

function usesAnchorModules(mod: FunctionModule): boolean {
  try {
    const text = readFileSync(mod.file, 'utf8');
    if (ANCHOR_MODULES.some((m) => text.includes(m))) return true;
    const pkg = readFileSync(`${mod.dir}/package.json`, 'utf8');
    return ANCHOR_MODULES.some((m) => pkg.includes(m));
  } catch {
    return false;
  }
}

/** Forgets CommonJS modules under `dir` so a reload evaluates them again. */
function dropCommonJsCache(dir: string): void {
  const cache = createRequire(import.meta.url).cache;
  for (const key of Object.keys(cache)) {
    if (key.startsWith(dir) && !key.includes('/node_modules/')) delete cache[key];
  }
}
