import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { FrameworkError } from '../errors.js';
import { withRegistrationScope, type RegisteredFunction } from '../registry.js';
import { ANCHOR_MODULES, installModuleHooks, installRequireHooks } from './hooks.js';
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

let generation = 0;

/**
 * Imports a function module in a registration scope. TypeScript is required through the
 * framework's compile hook (no loader thread) and falls back to the ES module hooks when it needs
 * ESM-only syntax; JavaScript uses Node's own import. A `fresh` import (watch reloads) evaluates
 * the function's own files again; its packages stay loaded.
 */
export async function importFunctionModule(mod: FunctionModule, fresh: boolean): Promise<ImportedModule> {
  const started = performance.now();
  const anchors = usesAnchorModules(mod);
  if (fresh) dropCommonJsCache(mod.dir);
  const url = pathToFileURL(mod.file);
  try {
    const { value, registered } = await withRegistrationScope(
      fresh ? `${url.href}#${++generation}` : url.href,
      async () => {
        if (mod.typescript) {
          installRequireHooks();
          try {
            return asNamespace(requireFrom(mod.file));
          } catch (err) {
            if (!needsEsm(err)) throw err;
            dropCommonJsCache(mod.dir);
          }
        }
        if (mod.typescript || fresh || anchors) installModuleHooks();
        if (fresh) url.searchParams.set('sprout-gen', String(generation));
        return nativeImport(url.href);
      },
    );
    // Where a cold start's time goes: the instance's supervisor reads this mark (and the compiles').
    performance.mark('sprout:module-loaded', { detail: { file: mod.file, ms: performance.now() - started } });
    return { namespace: value, registered, files: [mod.file] };
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

const requireFrom = (file: string): unknown => createRequire(file)(file);

function asNamespace(exported: unknown): Record<string, unknown> {
  return exported && typeof exported === 'object'
    ? (exported as Record<string, unknown>)
    : { default: exported };
}

/** A CommonJS evaluation failed on syntax only an ES module allows (top-level await, import.meta). */
function needsEsm(err: unknown): boolean {
  const e = err as Error & { code?: string };
  return (
    e instanceof SyntaxError &&
    /import\.meta|await is only valid|Cannot use import statement|top level bodies/.test(e.message)
  );
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
