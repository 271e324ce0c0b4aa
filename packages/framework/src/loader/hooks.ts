import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Module names functions written for the anchors import; they resolve to this framework. */
export const ANCHOR_MODULES = ['@google-cloud/functions-framework', '@openfunction/functions-framework'];

// The built registration API of this package (reached from src/loader and dist/loader alike):
// registrations made through it land in the process-wide table the loader reads.
const aliasUrl = new URL('../../dist/compat.js', import.meta.url);
const aliasPath = fileURLToPath(aliasUrl);

type Transform = (code: string, options: Record<string, unknown>) => { code: string };
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
export function installRequireHooks(
  cacheDir = process.env.SPROUT_CACHE_DIR ?? join(tmpdir(), 'sprout-ts-cache'),
): void {
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
  let transform: Transform | undefined;
  let cacheReady = false;
  const compile = (module: CompiledModule, file: string) => {
    const started = performance.now();
    const source = readFileSync(file, 'utf8');
    const key = createHash('sha1')
      .update(file)
      .update('\0')
      .update(source)
      .update('\0sucrase-3-cjs')
      .digest('hex');
    const cached = join(cacheDir, `${key}.js`);
    let code: string | undefined;
    let hit = true;
    try {
      code = readFileSync(cached, 'utf8');
    } catch {
      hit = false;
      transform ??= (Module.createRequire(import.meta.url)('sucrase') as { transform: Transform }).transform;
      code = transform(source, {
        transforms: file.endsWith('x') ? ['typescript', 'imports', 'jsx'] : ['typescript', 'imports'],
        filePath: file,
      }).code;
      try {
        if (!cacheReady) mkdirSync(cacheDir, { recursive: true });
        cacheReady = true;
        writeFileSync(cached, code);
      } catch {
        // a read-only or full disk only costs the next start a compile
      }
    }
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
