import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One environment change a layer asks for: an `env/` file, or a `bin/`, `lib/`… folder. */
export interface EnvChange {
  name: string;
  op: 'override' | 'default' | 'append' | 'prepend';
  value: string;
  /** Joins an append/prepend to the current value (none: plain concatenation). */
  delim: string;
}

const SUFFIX = /^(.+)\.(override|default|append|prepend)$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The changes an env folder (`<layer>/env`, `env.build`, `env.launch`, `env.launch/<process>`, or
 * `<platform>/env`) holds, in file-name order: `NAME` and `NAME.override` set, `NAME.default` sets
 * when unset, `NAME.append`/`NAME.prepend` join with the text of `NAME.delim` (Buildpack API 0.5
 * and later meanings). Sub-folders and names that are not variable names are ignored.
 */
function readEnvDir(dir: string): EnvChange[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
  const out: EnvChange[] = [];
  for (const f of files) {
    if (f.endsWith('.delim')) continue;
    const m = SUFFIX.exec(f);
    const name = m ? m[1]! : f;
    if (!NAME.test(name)) continue;
    const op = (m ? m[2] : 'override') as EnvChange['op'];
    const delimFile = join(dir, `${name}.delim`);
    const delim = existsSync(delimFile) ? readFileSync(delimFile, 'utf8') : '';
    out.push({ name, op, value: readFileSync(join(dir, f), 'utf8'), delim });
  }
  return out;
}

/** Applies changes in order to `env` (mutated) and returns it. */
export function applyEnv(env: Record<string, string>, changes: EnvChange[]): Record<string, string> {
  for (const c of changes) {
    const cur = env[c.name];
    if (c.op === 'override') env[c.name] = c.value;
    else if (c.op === 'default') {
      if (cur === undefined || cur === '') env[c.name] = c.value;
    } else if (cur === undefined || cur === '') env[c.name] = c.value;
    else env[c.name] = c.op === 'append' ? `${cur}${c.delim}${c.value}` : `${c.value}${c.delim}${cur}`;
  }
  return env;
}

/** The folders of a layer the lifecycle adds to search paths, per the Buildpack API. */
const PATH_DIRS: Record<'build' | 'launch', [string, string[]][]> = {
  build: [
    ['bin', ['PATH']],
    ['lib', ['LD_LIBRARY_PATH', 'LIBRARY_PATH']],
    ['include', ['CPATH']],
    ['pkgconfig', ['PKG_CONFIG_PATH']],
  ],
  launch: [
    ['bin', ['PATH']],
    ['lib', ['LD_LIBRARY_PATH']],
  ],
};

/**
 * A layer's changes for build or launch, in the order the lifecycle applies them: its `bin/`,
 * `lib/`… folders prepended to the search paths, then `env/`, then `env.build/` or `env.launch/`
 * (and `env.launch/<process>/` when `process` is given). `shownAs` is where the layer is seen by
 * the processes (its path in the image at launch; the same folder at build).
 */
export function layerEnv(
  layerDir: string,
  phase: 'build' | 'launch',
  shownAs = layerDir,
  process?: string,
): EnvChange[] {
  const out: EnvChange[] = [];
  for (const [sub, names] of PATH_DIRS[phase]) {
    if (!existsSync(join(layerDir, sub))) continue;
    for (const name of names) out.push({ name, op: 'prepend', value: `${shownAs}/${sub}`, delim: ':' });
  }
  out.push(...readEnvDir(join(layerDir, 'env')), ...readEnvDir(join(layerDir, `env.${phase}`)));
  if (phase === 'launch' && process) out.push(...readEnvDir(join(layerDir, 'env.launch', process)));
  return out;
}
