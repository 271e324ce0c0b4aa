import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { BuildContext } from '../../lifecycle/buildpack.js';
import { execStreaming } from '../../lifecycle/exec.js';
import { IMAGE_LAYERS_DIR } from '../../lifecycle/export.js';
import { buildFailed } from '../../lifecycle/external.js';
import { layersDirName } from '../../lifecycle/layers.js';
import { hashOf, restoredMetadata, writeEnvFile, writeLayerToml } from './layer-files.js';
import { linkTree } from './closure.js';
import { nodeModulesSbom } from './sbom.js';
import { installerOf, packageManager, type Installer } from './package-manager.js';
import type { PackageJson } from './project.js';

const BUILD_MODULES = 'build-modules';
/** npm's record of the installed tree, in node_modules. */
const HIDDEN_LOCK = '.package-lock.json';
export const LAUNCH_MODULES = 'launch-modules';

/** Runs one step of the Node.js build (npm, yarn, pnpm, tsc) in the app folder, streamed. */
export async function step(
  ctx: BuildContext,
  id: string,
  file: string,
  args: string[],
  what: string,
  env: Record<string, string> = {},
): Promise<void> {
  ctx.logs.line(`[${id}] $ ${[file.split('/').pop(), ...args].join(' ')}`);
  const res = await execStreaming(file, args, {
    cwd: ctx.appDir,
    env: { ...ctx.env, ...env },
    logs: ctx.logs,
    prefix: `[${id}]   `,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  if (res.code !== 0) throw buildFailed(id, what, res.code, res.signal, res.tail);
}

/** Replaces `<app>/node_modules` with a symbolic link to `target`. */
export function linkNodeModules(appDir: string, target: string): void {
  const link = join(appDir, 'node_modules');
  if (existsSync(link) || isLink(link)) rmSync(link, { recursive: true, force: true });
  symlinkSync(target, link);
}

const isLink = (p: string): boolean => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/**
 * Runs `fn` and puts package.json and the lockfile back byte for byte if it rewrote them (Yarn 2+
 * normalizes package.json on install): the app layer stays the source's, so the digest does not
 * depend on whether the dependency layers came from the cache.
 */
async function keeping(appDir: string, installer: Installer, fn: () => Promise<void>): Promise<void> {
  const files = ['package.json', ...(installer.lockfile ? [installer.lockfile] : [])].map((f) =>
    join(appDir, f),
  );
  const before = files.map((f) => (existsSync(f) ? readFileSync(f) : undefined));
  await fn();
  files.forEach((f, i) => {
    const was = before[i];
    if (was && !(existsSync(f) && readFileSync(f).equals(was))) writeFileSync(f, was);
  });
}

export interface ModulesResult {
  /** The layer holding the production node_modules, when there are dependencies. */
  launchDir?: string;
  reused: boolean;
  tool: string;
  installer: Installer;
}

/**
 * Installs the dependencies into cached layers, keyed by lockfile (or package.json dependencies),
 * Node.js version and package manager: `build-modules` (every dependency, for the build step; only
 * when there are dev dependencies) and `launch-modules` (production only: dev dependencies pruned).
 * A cached layer whose key matches is reused without running the package manager. `<app>/node_modules`
 * links to the build tree during the build step; `finishModules` repoints it at the launch tree.
 */
export async function installModules(
  ctx: BuildContext,
  id: string,
  pkg: PackageJson,
  nodeVersion: string,
  buildStep: () => Promise<void>,
): Promise<ModulesResult> {
  // What a tool would write into the app folder (yarn 4's install state) goes to the tool's layer.
  const installer = installerOf(ctx.appDir, pkg, join(ctx.layersDir, 'package-manager'));
  const tool = await packageManager(ctx, id, installer);
  const toolVersion = installer.fetch ? `${installer.fetch.name}@${installer.fetch.version}` : '';
  const hasDev = Object.keys(pkg.devDependencies ?? {}).length > 0;
  const lock = installer.lockfile ? readFileSync(join(ctx.appDir, installer.lockfile)) : '';
  const deps = JSON.stringify({ d: pkg.dependencies ?? {}, dd: pkg.devDependencies ?? {} });
  const cacheKey = hashOf(installer.tool, nodeVersion, deps, lock, toolVersion);
  const launchDir = join(ctx.layersDir, LAUNCH_MODULES);
  const buildDir = join(ctx.layersDir, BUILD_MODULES);
  const fresh = (name: string, dir: string) =>
    restoredMetadata(ctx.layersDir, name).cacheKey === cacheKey && existsSync(join(dir, 'node_modules'));
  const reused = fresh(LAUNCH_MODULES, launchDir) && (!hasDev || fresh(BUILD_MODULES, buildDir));
  if (reused) {
    ctx.logs.line(`[${id}] reusing cached dependency layers (key ${cacheKey.slice(0, 12)})`);
    linkNodeModules(ctx.appDir, join(hasDev ? buildDir : launchDir, 'node_modules'));
    await buildStep();
  } else {
    rmSync(launchDir, { recursive: true, force: true });
    rmSync(buildDir, { recursive: true, force: true });
    const vendored =
      existsSync(join(ctx.appDir, 'node_modules')) && !isLink(join(ctx.appDir, 'node_modules'));
    if (vendored && !installer.lockfile && installer.tool === 'npm')
      await step(ctx, id, tool, ['rebuild'], 'npm rebuild');
    else
      await keeping(ctx.appDir, installer, () =>
        step(ctx, id, tool, installer.install, `${installer.tool} ${installer.install[0]}`, installer.env),
      );
    if (!existsSync(join(ctx.appDir, 'node_modules'))) mkdirSync(join(ctx.appDir, 'node_modules'));
    if (hasDev) {
      mkdirSync(buildDir, { recursive: true });
      renameSync(join(ctx.appDir, 'node_modules'), join(buildDir, 'node_modules'));
      linkNodeModules(ctx.appDir, join(buildDir, 'node_modules'));
    }
    await buildStep();
    if (hasDev) {
      rmSync(join(ctx.appDir, 'node_modules'), { force: true });
      if (installer.tool === 'npm') {
        // Hard links: npm prune only removes files, but for its hidden lockfile, which it rewrites
        // in place and so gets a copy of its own (yarn and pnpm may overwrite files: copied).
        mkdirSync(join(ctx.appDir, 'node_modules'));
        linkTree(
          join(buildDir, 'node_modules'),
          join(ctx.appDir, 'node_modules'),
          (rel) => rel !== HIDDEN_LOCK,
        );
        if (existsSync(join(buildDir, 'node_modules', HIDDEN_LOCK)))
          copyFileSync(
            join(buildDir, 'node_modules', HIDDEN_LOCK),
            join(ctx.appDir, 'node_modules', HIDDEN_LOCK),
          );
      } else
        cpSync(join(buildDir, 'node_modules'), join(ctx.appDir, 'node_modules'), {
          recursive: true,
          verbatimSymlinks: true,
        });
      await keeping(ctx.appDir, installer, () =>
        step(ctx, id, tool, installer.prune, `${installer.tool} prune`, installer.env),
      );
    }
    mkdirSync(launchDir, { recursive: true });
    renameSync(join(ctx.appDir, 'node_modules'), join(launchDir, 'node_modules'));
  }
  if (hasDev) writeLayerToml(ctx.layersDir, BUILD_MODULES, { build: true, cache: true }, { cacheKey });
  writeLayerToml(ctx.layersDir, LAUNCH_MODULES, { launch: true, cache: true }, { cacheKey });
  writeEnvFile(launchDir, 'env.launch', 'NODE_ENV.default', 'production');
  // env.launch is read only in the image: the path is the image's.
  writeEnvFile(
    launchDir,
    'env.launch',
    'PATH.append',
    `${IMAGE_LAYERS_DIR}/${layersDirName(id)}/${LAUNCH_MODULES}/node_modules/.bin`,
  );
  writeEnvFile(launchDir, 'env.launch', 'PATH.delim', ':');
  writeFileSync(
    join(ctx.layersDir, `${LAUNCH_MODULES}.sbom.cdx.json`),
    nodeModulesSbom(join(launchDir, 'node_modules'), { ...(pkg.name ? { name: pkg.name } : {}) }),
  );
  return { launchDir, reused, tool, installer };
}
