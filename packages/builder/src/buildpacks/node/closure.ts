import {
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { dirname, join, sep } from 'node:path';

interface Manifest {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  files?: string[];
}

const readManifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The folder Node would load `name` from when required by the package in `fromDir`. */
function locate(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** A package of a workspace (not under node_modules): only what it publishes is copied. */
const isWorkspacePackage = (dir: string): boolean => !dir.split(sep).includes('node_modules');

/** Files Node never loads at run time: type declarations, source maps, docs, TypeScript sources. */
const NOT_RUNTIME = /\.(d\.[cm]?ts|map|md|markdown|[cm]?ts|tsx)$/i;

/**
 * Whether a path (its parts, inside an installed package) is copied: not nested node_modules, nor
 * what only a build or a reader needs; of a native addon only the compiled `build/Release/*.node`
 * and what is not its C sources (`deps/`, `src/`).
 */
function keep(parts: string[], native: boolean): boolean {
  if (parts.includes('node_modules')) return false;
  const last = parts[parts.length - 1]!;
  if (NOT_RUNTIME.test(last) && !last.endsWith('.json')) return false;
  if (native && (parts[0] === 'deps' || parts[0] === 'src')) return false;
  if (native && parts[0] === 'build') {
    if (parts.length === 1) return true;
    if (parts[1] !== 'Release') return false;
    return parts.length === 2 || (parts.length === 3 && last.endsWith('.node'));
  }
  return true;
}

/**
 * `src` into `dest` (an existing folder) as hard links, what `wanted` (the path below `src`) keeps:
 * an installed package's files are never written in place (npm replaces them), so a link is a
 * copy that costs no bytes. Symbolic links are kept as they are; across file systems files are
 * copied with their times.
 */
export function linkTree(
  src: string,
  dest: string,
  wanted: (rel: string) => boolean = () => true,
  rel = '',
): void {
  for (const entry of readdirSync(join(src, rel), { withFileTypes: true })) {
    const r = rel === '' ? entry.name : join(rel, entry.name);
    if (!wanted(r)) continue;
    const from = join(src, r);
    const to = join(dest, r);
    if (entry.isDirectory()) {
      mkdirSync(to);
      linkTree(src, dest, wanted, r);
    } else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (entry.isFile()) {
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to);
        const st = statSync(from);
        utimesSync(to, st.atime, st.mtime);
      }
    }
  }
}

/**
 * Copies the package at `pkgDir` and its production dependencies (as Node resolves them from there)
 * into `destNodeModules`, laid out so that Node resolves them again: flat where the name is free,
 * nested under the dependent where another version took it. A workspace package contributes its
 * package.json and its `files`; an installed one its folder without its own node_modules.
 * Returns the number of packages copied.
 */
export function copyPackageClosure(pkgDir: string, destNodeModules: string): number {
  const placed = new Map<string, string>(); // name → real source folder at the top level
  let count = 0;
  const copyOne = (src: string, dest: string) => {
    mkdirSync(dest, { recursive: true });
    const manifest = readManifest(src);
    if (isWorkspacePackage(src)) {
      cpSync(join(src, 'package.json'), join(dest, 'package.json'), { preserveTimestamps: true });
      for (const f of manifest.files ?? []) {
        if (existsSync(join(src, f)))
          cpSync(join(src, f), join(dest, f), {
            recursive: true,
            verbatimSymlinks: true,
            preserveTimestamps: true,
          });
      }
    } else {
      const native = existsSync(join(src, 'binding.gyp'));
      linkTree(src, dest, (rel) => keep(rel.split(sep), native));
    }
    count++;
  };
  const visit = (src: string, destParent: string, seen: Set<string>) => {
    const manifest = readManifest(src);
    const deps = { ...manifest.dependencies, ...manifest.optionalDependencies };
    for (const name of Object.keys(deps).sort()) {
      const depDir = locate(name, src);
      if (!depDir) continue; // an optional dependency not installed here
      if (seen.has(depDir)) continue;
      const top = placed.get(name);
      if (top === depDir) continue;
      let dest: string;
      if (top === undefined) {
        placed.set(name, depDir);
        dest = join(destNodeModules, name);
      } else dest = join(destParent, 'node_modules', name);
      copyOne(depDir, dest);
      visit(depDir, dest, new Set([...seen, depDir]));
    }
  };
  const name = readManifest(pkgDir).name!;
  const root = realpathSync(pkgDir);
  placed.set(name, root);
  copyOne(root, join(destNodeModules, name));
  visit(root, join(destNodeModules, name), new Set([root]));
  return count;
}
