import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedFunction } from './resolved.js';

// A function.yaml resolves to the same ResolvedFunction until its text or this package changes, so
// `sprout run` keeps the result on disk: a start-up with an unchanged file loads no YAML parser or
// schema library (together about 200 ms of a cold start). Only successful resolutions are kept.

let codeStamp: string | undefined;

/** What identifies this package's code: its modules' names, sizes and change times. */
function packageStamp(): string {
  if (codeStamp === undefined) {
    const dir = dirname(fileURLToPath(import.meta.url));
    const h = createHash('sha256');
    for (const f of readdirSync(dir).sort()) {
      if (!/\.[cm]?[jt]s$/.test(f)) continue;
      const s = statSync(join(dir, f));
      h.update(`${f}:${s.size}:${s.mtimeMs}\n`);
    }
    codeStamp = h.digest('hex');
  }
  return codeStamp;
}

/**
 * `loadFunctionYaml` with its result kept under `cacheDir` (keyed by the file's path and text and by
 * this package's code). A missing, stale or unreadable cache entry is resolved again and rewritten.
 *
 * @example
 * const fn = await loadFunctionYamlCached('fn/function.yaml', '.sprout/cache');
 */
export async function loadFunctionYamlCached(file: string, cacheDir: string): Promise<ResolvedFunction> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return (await import('./load.js')).loadFunctionYaml(file); // raises the coded error
  }
  const key = createHash('sha256')
    .update(packageStamp())
    .update(file)
    .update('\0')
    .update(text)
    .digest('hex');
  const entry = join(cacheDir, 'spec', `${key.slice(0, 40)}.json`);
  try {
    const cached = JSON.parse(readFileSync(entry, 'utf8')) as { key?: string; fn?: ResolvedFunction };
    if (cached.key === key && cached.fn) return cached.fn;
  } catch {
    // not cached yet, or unreadable: resolve below
  }
  const fn = (await import('./load.js')).resolveFunctionText(text, file);
  try {
    mkdirSync(dirname(entry), { recursive: true });
    const tmp = `${entry}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, fn }));
    renameSync(tmp, entry);
  } catch {
    // a read-only data dir only costs the next start the resolution
  }
  return fn;
}
