import { readFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { compiledTypeScript, defaultCacheDir } from './ts-cache.js';

/** Module names functions written for the anchors import; they resolve to this framework. */
export const ANCHOR_MODULES = ['@google-cloud/functions-framework', '@openfunction/functions-framework'];

// The built registration API of this package (reached from src/loader and dist/loader alike):
// registrations made through it land in the process-wide table the loader reads.
const aliasUrl = new URL('../../dist/compat.js', import.meta.url);
const aliasPath = fileURLToPath(aliasUrl);

type CompiledModule = { _compile(code: string, file: string, format?: 'commonjs' | 'module'): void };
interface ModuleInternals {
  _resolveFilename: (request: string, parent: unknown, ...rest: unknown[]) => string;
  _extensions: Record<string, (module: CompiledModule, file: string) => void>;
}

let requireHooks = false;
let moduleHooks = false;

/**
 * Installs this thread's hooks once per process: `require` of an anchor's package name gives our
 * registration API; `.ts`/`.cts`/`.mts`/`.tsx` files are compiled by sucrase (types stripped,
 * ES modules to CommonJS) with an on-disk cache keyed by content, so a warm start skips the
 * compiler; and a relative `./x.js` that does not exist resolves to `./x.ts`, as TypeScript writes it.
 * Running TypeScript this way needs no loader thread, which keeps cold starts close to plain JS.
 */
export function installRequireHooks(cacheDir = defaultCacheDir()): void {
  if (requireHooks) return;
  requireHooks = true;
  const M = Module as unknown as ModuleInternals;
  const resolveFilename = M._resolveFilename;
  M._resolveFilename = function (request: string, parent: unknown, ...rest: unknown[]) {
    if (ANCHOR_MODULES.includes(request)) return aliasPath;
    try {
      return resolveFilename.call(this, request, parent, ...rest);
    } catch (err) {
      const m = /^(\.{1,2}\/.*)\.(c|m)?js$/.exec(request);
      if (!m) throw err;
      try {
        return resolveFilename.call(this, `${m[1]}.${m[2] ?? ''}ts`, parent, ...rest);
      } catch {
        throw err;
      }
    }
  };
  const compile = (module: CompiledModule, file: string) => {
    const started = performance.now();
    const { code, hit } = compiledTypeScript(file, readFileSync(file, 'utf8'), cacheDir);
    performance.mark('sprout:ts-compile', { detail: { file, hit, ms: performance.now() - started } });
    module._compile(code, file, 'commonjs');
  };
  for (const ext of ['.ts', '.cts', '.mts', '.tsx']) M._extensions[ext] = compile;
}

/**
 * Registers the ES module hooks (`hooks.mjs`, run in Node's loader thread) once per process, for
 * what `require` cannot do: ES modules that import an anchor's package, TypeScript that must stay
 * an ES module (top-level await, import.meta), and fresh module graphs for watch reloads.
 */
export function installModuleHooks(): void {
  installRequireHooks();
  if (moduleHooks) return;
  moduleHooks = true;
  register(new URL('../../hooks.mjs', import.meta.url), { data: { aliasTarget: aliasUrl.href } });
}
