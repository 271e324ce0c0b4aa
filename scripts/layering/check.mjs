// The layering rules of CONTRIBUTING.md, checked over a workspace: every package imports another
// only as @sprout/<name>, declares what it imports, and depends only down the layer table.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { blankComments, sourceImports } from './source-imports.mjs';

/**
 * The layer table. A package may depend on packages of a later layer, never on its own layer or an
 * earlier one. Leaves depend on no other package except the ones listed for them; any package may
 * depend on a leaf.
 */
export const LAYERS = {
  chain: [
    ['cli'],
    ['platform'],
    ['gateway', 'triggers', 'collector', 'eip', 'builder', 'console', 'framework'],
    ['state'],
    ['observe'],
  ],
  leaves: { spec: ['http', 'kube'], kube: ['http'], http: [], observe: [] },
};

/** The chain as CONTRIBUTING.md writes it: `cli → platform → {gateway, …} → state → observe`. */
export function chainText(layers = LAYERS) {
  return layers.chain.map((l) => (l.length === 1 ? l[0] : `{${l.join(', ')}}`)).join(' → ');
}

const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage']);
const PREFIX = '@sprout/';

/** Reads `packages/*` under `root`: manifests, tsconfig references and source files. */
function readWorkspace(root) {
  const base = join(root, 'packages');
  const packages = new Map();
  for (const name of readdirSync(base).sort()) {
    const dir = join(base, name);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const tsconfigFile = join(dir, 'tsconfig.json');
    const tsconfig = existsSync(tsconfigFile) ? parseJsonc(readFileSync(tsconfigFile, 'utf8')) : undefined;
    const files = [];
    for (const sub of ['src', 'bin', 'test']) files.push(...walk(join(dir, sub)));
    for (const f of readdirSync(dir)) {
      if (/\.(mjs|cjs|js)$/.test(f) && statSync(join(dir, f)).isFile()) files.push(join(dir, f));
    }
    packages.set(name, { name, dir, manifest, tsconfig, files: files.sort() });
  }
  return packages;
}

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return SKIP_DIRS.has(f) ? [] : walk(p);
    return SOURCE.test(f) && !f.endsWith('.d.ts') ? [p] : [];
  });
}

/** JSON with comments and trailing commas (tsconfig.json). */
export function parseJsonc(text) {
  return JSON.parse(blankComments(text).replace(/,(\s*[}\]])/g, '$1'));
}

/** Test code: under a `test/` folder or named `*.test.*`. It may use devDependencies. */
function isTestFile(pkgDir, file) {
  const rel = relative(pkgDir, file).split(sep);
  return rel[0] === 'test' || /\.test\.[a-z]+$/.test(rel[rel.length - 1]);
}

/** @sprout dependencies a manifest declares, by field. */
function declared(manifest, field) {
  return Object.keys(manifest[field] ?? {})
    .filter((d) => d.startsWith(PREFIX))
    .map((d) => d.slice(PREFIX.length));
}

/**
 * Every breach of the layering rules under `root`, as `{ file, line?, rule, message }` with paths
 * relative to `root`. Rules: `escape` (a relative import leaves its package), `undeclared`,
 * `unknown` (no such workspace package), `not-exported` (a subpath the package does not export),
 * `cycle`, `layer` (a dependency up or across the table, or out of a leaf), `unlisted` (a package
 * the table does not name), `references` (tsconfig references differ from the dependencies),
 * `docs` (CONTRIBUTING.md does not state the table).
 */
export function checkLayering(root, layers = LAYERS) {
  const packages = readWorkspace(root);
  const findings = [];
  const rel = (p) => relative(root, p).split(sep).join('/');
  for (const pkg of packages.values()) {
    const deps = new Set(declared(pkg.manifest, 'dependencies'));
    const devDeps = new Set([...deps, ...declared(pkg.manifest, 'devDependencies')]);
    for (const file of pkg.files) {
      const test = isTestFile(pkg.dir, file);
      for (const { specifier, line } of sourceImports(readFileSync(file, 'utf8'))) {
        const at = { file: rel(file), line };
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(file), specifier);
          if (target !== pkg.dir && !target.startsWith(pkg.dir + sep)) {
            findings.push({
              ...at,
              rule: 'escape',
              message: `'${specifier}' leaves packages/${pkg.name}: import another package as @sprout/<name>`,
            });
          }
          continue;
        }
        if (!specifier.startsWith(PREFIX)) continue;
        const [name, ...subpath] = specifier.slice(PREFIX.length).split('/');
        const target = packages.get(name);
        if (!target) {
          findings.push({
            ...at,
            rule: 'unknown',
            message: `${PREFIX}${name} is not a package of this workspace`,
          });
          continue;
        }
        if (name !== pkg.name && !(test ? devDeps : deps).has(name)) {
          findings.push({
            ...at,
            rule: 'undeclared',
            message: `imports ${PREFIX}${name}, which packages/${pkg.name}/package.json does not list in ${
              test ? 'dependencies or devDependencies' : 'dependencies'
            }`,
          });
        }
        const exportsMap = target.manifest.exports;
        const key = subpath.length ? `./${subpath.join('/')}` : '.';
        if (exportsMap && typeof exportsMap === 'object' && !(key in exportsMap)) {
          findings.push({
            ...at,
            rule: 'not-exported',
            message: `${specifier}: packages/${name}/package.json does not export '${key}'`,
          });
        }
      }
    }
  }
  findings.push(...checkGraph(packages, layers, rel));
  const contributing = join(root, 'CONTRIBUTING.md');
  const stated = existsSync(contributing) && readFileSync(contributing, 'utf8').replace(/\s+/g, ' ');
  if (stated !== false && !stated.includes(chainText(layers))) {
    findings.push({
      file: 'CONTRIBUTING.md',
      rule: 'docs',
      message: `does not state the layer table the check uses: \`${chainText(layers)}\``,
    });
  }
  return findings;
}

/** The declared graph: layer order, leaves, cycles, and tsconfig references. */
function checkGraph(packages, layers, rel) {
  const findings = [];
  const rank = new Map();
  layers.chain.forEach((layer, k) => layer.forEach((n) => rank.set(n, k)));
  const leaves = layers.leaves;
  const edges = new Map();
  for (const pkg of packages.values()) {
    const file = rel(join(pkg.dir, 'package.json'));
    if (!rank.has(pkg.name) && !(pkg.name in leaves)) {
      findings.push({ file, rule: 'unlisted', message: `packages/${pkg.name} is not in the layer table` });
    }
    const runtime = declared(pkg.manifest, 'dependencies');
    const all = [...new Set([...runtime, ...declared(pkg.manifest, 'devDependencies')])];
    edges.set(pkg.name, all);
    for (const dep of all) {
      if (dep === pkg.name || !packages.has(dep)) continue;
      const field = runtime.includes(dep) ? 'dependencies' : 'devDependencies';
      const why = layerBreach(pkg.name, dep, rank, leaves);
      if (why) findings.push({ file, rule: 'layer', message: `${PREFIX}${dep} in ${field}: ${why}` });
    }
    if (pkg.tsconfig) {
      const refs = (pkg.tsconfig.references ?? []).map((r) =>
        r.path.replace(/^\.\.\//, '').replace(/\/$/, ''),
      );
      const tsFile = rel(join(pkg.dir, 'tsconfig.json'));
      for (const dep of runtime.filter((d) => packages.has(d) && !refs.includes(d))) {
        findings.push({
          file: tsFile,
          rule: 'references',
          message: `lacks { "path": "../${dep}" } for its dependency ${PREFIX}${dep}`,
        });
      }
      for (const ref of refs.filter((r) => !runtime.includes(r))) {
        findings.push({
          file: tsFile,
          rule: 'references',
          message: `references ../${ref}, which package.json does not list in dependencies`,
        });
      }
    }
  }
  for (const cycle of cycles(edges)) {
    findings.push({
      file: rel(join(packages.get(cycle[0]).dir, 'package.json')),
      rule: 'cycle',
      message: `dependency cycle: ${cycle.join(' → ')}`,
    });
  }
  return findings;
}

function layerBreach(from, to, rank, leaves) {
  if (from in leaves) {
    return leaves[from].includes(to)
      ? undefined
      : `${from} is a leaf and may depend on ${leaves[from].length ? leaves[from].join(', ') : 'no other package'} only`;
  }
  if (to in leaves) return undefined;
  if (!rank.has(from) || !rank.has(to)) return undefined; // reported as unlisted
  if (rank.get(to) > rank.get(from)) return undefined;
  return rank.get(to) === rank.get(from)
    ? `${from} and ${to} sit in the same layer; neither may depend on the other`
    : `${to} is above ${from} in the layer table`;
}

/** Each elementary cycle once, as the names along it with the first repeated at the end. */
export function cycles(edges) {
  const found = new Map();
  const visit = (start, node, path, seen) => {
    for (const next of edges.get(node) ?? []) {
      if (next === start) {
        const key = [...path].sort().join(',');
        if (!found.has(key)) found.set(key, [...path, start]);
      } else if (!seen.has(next) && next > start && edges.has(next)) {
        seen.add(next);
        visit(start, next, [...path, next], seen);
        seen.delete(next);
      }
    }
  };
  for (const start of [...edges.keys()].sort()) visit(start, start, [start], new Set([start]));
  return [...found.values()];
}

/** One line per finding, `file[:line]: rule: message`. */
export function formatFindings(findings) {
  return findings.map((f) => `${f.file}${f.line ? `:${f.line}` : ''}: ${f.rule}: ${f.message}`).join('\n');
}
