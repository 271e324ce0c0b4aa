import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

type Transform = (code: string, options: Record<string, unknown>) => { code: string };

let transform: Transform | undefined;
const madeDirs = new Set<string>();

/** Where compiled TypeScript is kept: `SPROUT_CACHE_DIR`, else `sprout-ts-cache` in the temp folder. */
export const defaultCacheDir = (env: NodeJS.ProcessEnv = process.env): string =>
  env.SPROUT_CACHE_DIR ?? join(tmpdir(), 'sprout-ts-cache');

/**
 * The CommonJS code of a TypeScript file: from the on-disk cache (keyed by path and content), else
 * compiled by sucrase (types stripped, ES modules to CommonJS) and written to the cache, so a warm
 * start skips the compiler. `hit` says which.
 */
export function compiledTypeScript(
  file: string,
  source: string,
  cacheDir: string,
): { code: string; hit: boolean } {
  const key = createHash('sha1')
    .update(file)
    .update('\0')
    .update(source)
    .update('\0sucrase-3-cjs')
    .digest('hex');
  const cached = join(cacheDir, `${key}.js`);
  try {
    return { code: readFileSync(cached, 'utf8'), hit: true };
  } catch {
    // not compiled yet
  }
  transform ??= (Module.createRequire(import.meta.url)('sucrase') as { transform: Transform }).transform;
  const { code } = transform(source, {
    transforms: file.endsWith('x') ? ['typescript', 'imports', 'jsx'] : ['typescript', 'imports'],
    filePath: file,
  });
  try {
    if (!madeDirs.has(cacheDir)) mkdirSync(cacheDir, { recursive: true });
    madeDirs.add(cacheDir);
    writeFileSync(cached, code);
  } catch {
    // a read-only or full disk only costs the next start a compile
  }
  return { code, hit: false };
}

const SKIPPED = new Set(['node_modules', '.git', '.sprout', 'dist']);

/** The TypeScript sources under `dir` (not declarations), at most `max`, without entering SKIPPED folders. */
function typeScriptFiles(dir: string, max: number, found: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (found.length >= max) break;
    const path = join(dir, e.name);
    if (e.isDirectory() && !SKIPPED.has(e.name)) typeScriptFiles(path, max, found);
    else if (e.isFile() && /\.(c|m)?tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/**
 * Compiles the TypeScript files of a function's folder into the cache ahead of its first start (a
 * supervisor calls this when it registers the function), one file per turn of the event loop so a
 * server in the same process keeps answering. Files that do not compile are left for the start to
 * report. Resolves with how many were compiled and how many were already cached.
 */
export async function warmCompileCache(
  dir: string,
  cacheDir: string = defaultCacheDir(),
  maxFiles = 500,
): Promise<{ compiled: number; cached: number }> {
  const counts = { compiled: 0, cached: 0 };
  let files: string[];
  try {
    files = typeScriptFiles(dir, maxFiles);
  } catch {
    return counts;
  }
  for (const file of files) {
    await new Promise((r) => setImmediate(r));
    try {
      const { hit } = compiledTypeScript(file, readFileSync(file, 'utf8'), cacheDir);
      counts[hit ? 'cached' : 'compiled']++;
    } catch {
      // a syntax error shows when the function starts
    }
  }
  return counts;
}

/** Folders waiting for the next warm-up thread, with the cache folder each compiles into. */
const waiting = new Map<string, string>();
let flushing: Promise<void> | undefined;

/**
 * `warmCompileCache` on a worker thread, so loading the compiler (hundreds of milliseconds on a busy
 * machine) never blocks the caller's event loop: a supervisor that registers functions while its
 * gateway already takes requests. Folders asked for in the same turn share one thread; the thread
 * does not keep the process alive. A thread that fails (no compiler, no loader for this file) only
 * leaves the starts to compile.
 */
export function warmCompileCacheOffThread(dir: string, cacheDir: string = defaultCacheDir()): void {
  waiting.set(dir, cacheDir);
  flushing ??= new Promise<void>((r) => setImmediate(r)).then(async () => {
    while (waiting.size > 0) {
      const jobs = [...waiting];
      waiting.clear();
      await runWarmThread(jobs);
    }
    flushing = undefined;
  });
}

// The thread loads the built module (reached from src/loader and dist/loader alike): a thread does
// not inherit a TypeScript loader the caller may run under.
const BUILT_MODULE = new URL('../../dist/loader/ts-cache.js', import.meta.url).href;

function runWarmThread(jobs: [string, string][]): Promise<void> {
  // Works whether the thread's eval runs as a script or as an ES module.
  const code = `import('node:worker_threads').then(async ({ workerData }) => {
  const m = await import(workerData.module);
  for (const [dir, cacheDir] of workerData.jobs) await m.warmCompileCache(dir, cacheDir);
});`;
  return new Promise((resolve) => {
    try {
      const w = new Worker(code, {
        eval: true,
        workerData: { module: BUILT_MODULE, jobs },
        stdout: true,
        stderr: true,
      });
      w.unref();
      w.once('error', () => resolve());
      w.once('exit', () => resolve());
    } catch {
      resolve();
    }
  });
}
