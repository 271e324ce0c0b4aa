// Module hooks the framework registers (node:module register) when a function needs them:
// - TypeScript: .ts/.mts/.tsx files are stripped of types with sucrase on load (no build step);
//   CommonJS TypeScript is left to the main thread's require hook;
// - the anchors' package names resolve to this framework's registration API;
// - a `sprout-gen` query on a function's entry is carried to every file it imports, so a watch
//   reload evaluates the function's own module graph afresh (packages stay shared).
// Plain JavaScript so that Node can load it in its hooks thread from source and from dist alike.
import { readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ANCHORS = ['@google-cloud/functions-framework', '@openfunction/functions-framework'];
const TS = /\.(?:c|m)?tsx?$/;
let aliasTarget;
let transform;
const packageTypes = new Map();

export async function initialize(data) {
  aliasTarget = data?.aliasTarget;
}

function candidates(specifier) {
  const m = /\.(c|m)?js$/.exec(specifier);
  if (m) {
    const base = specifier.slice(0, -m[0].length);
    return m[1] ? [`${base}.${m[1]}ts`] : [`${base}.ts`, `${base}.tsx`];
  }
  if (/\.[a-z]+$/i.test(specifier)) return [];
  return [
    `${specifier}.ts`,
    `${specifier}.tsx`,
    `${specifier}.js`,
    `${specifier}/index.ts`,
    `${specifier}/index.js`,
  ];
}

export async function resolve(specifier, context, next) {
  if (aliasTarget && ANCHORS.includes(specifier)) return { url: aliasTarget, shortCircuit: true };
  let result;
  try {
    result = await next(specifier, context);
  } catch (err) {
    const relative = specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:');
    if (!relative) throw err;
    for (const candidate of candidates(specifier)) {
      try {
        result = await next(candidate, context);
        break;
      } catch {
        // try the next spelling
      }
    }
    if (!result) throw err;
  }
  const parent = context.parentURL ? new URL(context.parentURL) : undefined;
  const gen = parent?.searchParams.get('sprout-gen');
  if (gen && result.url.startsWith('file:') && !result.url.includes('/node_modules/')) {
    const url = new URL(result.url);
    url.searchParams.set('sprout-gen', gen);
    return { ...result, url: url.href };
  }
  return result;
}

function packageType(file) {
  let dir = dirname(file);
  const seen = [];
  for (;;) {
    if (packageTypes.has(dir)) break;
    seen.push(dir);
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      let type = 'commonjs';
      try {
        type = JSON.parse(readFileSync(pkg, 'utf8')).type === 'module' ? 'module' : 'commonjs';
      } catch {
        // an unreadable package.json leaves Node's default
      }
      packageTypes.set(dir, type);
      break;
    }
    const up = dirname(dir);
    if (up === dir) {
      packageTypes.set(dir, 'commonjs');
      break;
    }
    dir = up;
  }
  const type = packageTypes.get(dir);
  for (const d of seen) packageTypes.set(d, type);
  return type;
}

export async function load(url, context, next) {
  if (!url.startsWith('file:')) return next(url, context);
  const path = fileURLToPath(new URL(url).href.replace(/\?.*$/, ''));
  if (!TS.test(path)) return next(url, context);
  const format = path.endsWith('.mts') ? 'module' : path.endsWith('.cts') ? 'commonjs' : packageType(path);
  if (format === 'commonjs') return { format: 'commonjs', shortCircuit: true };
  transform ??= (await import('sucrase')).transform;
  const source = await readFile(path, 'utf8');
  const { code } = transform(source, {
    transforms: path.endsWith('x') ? ['typescript', 'jsx'] : ['typescript'],
    filePath: path,
    disableESTransforms: true,
    sourceMapOptions: { compiledFilename: path },
  });
  return { format: 'module', source: code, shortCircuit: true };
}
