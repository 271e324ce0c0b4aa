import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

// A function's source is the function.yaml (or folder) it is loaded from. Load errors of
// @sprout/spec start with `path[:line]: `; these helpers say which source an error is about, so a
// broken source can be listed, watched and registered again once it loads.

const YAML_NAMES = new Set(['function.yaml', 'function.yml']);

/** The file or folder (absolute) a load error names first, if it names one. */
export function sourceOf(message: string, cwd: string): string | undefined {
  const m = /^(.+?)(?::\d+)*: /.exec(message);
  return m ? resolve(cwd, m[1]!) : undefined;
}

/**
 * What to register again when `source` changes: a function.yaml itself, the folder of any other file
 * (a package.json that did not parse), or undefined when the source is no file (a folder, or a path
 * that does not exist: nothing to watch).
 */
export function registrationTarget(source: string): string | undefined {
  try {
    if (!statSync(source).isFile()) return undefined;
  } catch {
    return undefined;
  }
  return YAML_NAMES.has(basename(source)) ? source : dirname(source);
}
