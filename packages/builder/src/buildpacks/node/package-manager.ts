// Which package manager installs an app's dependencies (by lockfile, as Paketo's Node.js
// buildpacks choose), and where the builder gets yarn or pnpm when they are not on PATH.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BuilderError } from '../../errors.js';
import type { BuildContext } from '../../lifecycle/buildpack.js';
import { execStreaming } from '../../lifecycle/exec.js';
import { onPath, restoredMetadata, writeLayerToml } from './layer-files.js';
import type { PackageJson } from './project.js';

/** The layer the builder installs yarn or pnpm into (build and cache, not launched). */
const PACKAGE_MANAGER = 'package-manager';

/** How the dependencies are installed, from the lockfile present. */
export interface Installer {
  tool: 'npm' | 'yarn' | 'pnpm';
  lockfile?: string;
  /** Arguments installing every dependency as the lockfile pins them (or resolving them without one). */
  install: string[];
  /** Arguments removing the dev dependencies from an installed tree. */
  prune: string[];
  /** Environment the tool runs with (on top of the build's). */
  env: Record<string, string>;
  /** The npm package and version installed when the tool is not on PATH (yarn and pnpm only). */
  fetch?: { name: string; version: string; bin: string; pinned: boolean };
}

/** Versions used when package.json has no `packageManager` field (the last of each line here). */
const DEFAULT_VERSIONS = {
  pnpm9: '9.15.9', // lockfileVersion 9.0 (pnpm 9 and 10)
  pnpm8: '8.15.9', // lockfileVersion 6.x
  pnpm7: '7.33.7', // lockfileVersion 5.x
  yarnClassic: '1.22.22', // `# yarn lockfile v1`
  yarnBerry: '4.9.2', // a yarn.lock with __metadata (Yarn 2+), the @yarnpkg/cli-dist package
} as const;

const NPM_FLAGS = ['--no-audit', '--no-fund'];

/** `packageManager: "pnpm@9.1.0+sha512.…"` → name and version (hash dropped); undefined when absent or malformed. */
function pinned(pkg: PackageJson | undefined): { name: string; version: string } | undefined {
  const m = /^(npm|yarn|pnpm)@(\d+\.\d+\.\d+[\w.-]*)(\+.*)?$/.exec(pkg?.packageManager ?? '');
  return m ? { name: m[1]!, version: m[2]! } : undefined;
}

function pnpmInstaller(lock: string, pin: string | undefined): Installer {
  const v = /^lockfileVersion:\s*'?(\d+)/m.exec(lock)?.[1];
  const version =
    pin ?? (v === '5' ? DEFAULT_VERSIONS.pnpm7 : v === '6' ? DEFAULT_VERSIONS.pnpm8 : DEFAULT_VERSIONS.pnpm9);
  return {
    tool: 'pnpm',
    lockfile: 'pnpm-lock.yaml',
    install: ['install', '--frozen-lockfile'],
    prune: ['prune', '--prod'],
    env: {},
    fetch: { name: 'pnpm', version, bin: 'pnpm', pinned: pin !== undefined },
  };
}

function yarnInstaller(lock: string, pin: string | undefined, stateDir: string): Installer {
  const berry = pin ? Number(pin.split('.')[0]) >= 2 : /^__metadata:/m.test(lock);
  if (!berry)
    return {
      tool: 'yarn',
      lockfile: 'yarn.lock',
      install: ['install', '--frozen-lockfile', '--non-interactive'],
      prune: ['install', '--frozen-lockfile', '--non-interactive', '--production'],
      env: {},
      fetch: {
        name: 'yarn',
        version: pin ?? DEFAULT_VERSIONS.yarnClassic,
        bin: 'yarn',
        pinned: pin !== undefined,
      },
    };
  // Yarn 2+: a node_modules tree (the image runs plain node, no Plug'n'Play loader), no telemetry,
  // and its install state kept out of the app folder (the app layer stays reproducible).
  return {
    tool: 'yarn',
    lockfile: 'yarn.lock',
    install: ['install', '--immutable'],
    prune: ['workspaces', 'focus', '--production'],
    env: {
      YARN_NODE_LINKER: 'node-modules',
      YARN_ENABLE_TELEMETRY: '0',
      YARN_ENABLE_PROGRESS_BARS: '0',
      YARN_INSTALL_STATE_PATH: join(stateDir, 'yarn-install-state.gz'),
    },
    fetch: {
      name: '@yarnpkg/cli-dist',
      version: pin ?? DEFAULT_VERSIONS.yarnBerry,
      bin: 'yarn',
      pinned: pin !== undefined,
    },
  };
}

/**
 * The installer for the app: pnpm for `pnpm-lock.yaml`, yarn (1 or 2+, by the lockfile's format or
 * the `packageManager` field) for `yarn.lock`, `npm ci` for `package-lock.json` /
 * `npm-shrinkwrap.json`, `npm install` without a lockfile. `stateDir` holds what a tool would
 * otherwise write into the app folder.
 */
export function installerOf(appDir: string, pkg: PackageJson | undefined, stateDir: string): Installer {
  const pin = pinned(pkg);
  const read = (f: string) => readFileSync(join(appDir, f), 'utf8');
  if (existsSync(join(appDir, 'pnpm-lock.yaml')))
    return pnpmInstaller(read('pnpm-lock.yaml'), pin?.name === 'pnpm' ? pin.version : undefined);
  if (existsSync(join(appDir, 'yarn.lock')))
    return yarnInstaller(read('yarn.lock'), pin?.name === 'yarn' ? pin.version : undefined, stateDir);
  const npm: Omit<Installer, 'install'> = {
    tool: 'npm',
    prune: ['prune', '--omit=dev', ...NPM_FLAGS],
    env: {},
  };
  for (const lock of ['npm-shrinkwrap.json', 'package-lock.json'])
    if (existsSync(join(appDir, lock))) return { ...npm, lockfile: lock, install: ['ci', ...NPM_FLAGS] };
  return { ...npm, install: ['install', ...NPM_FLAGS] };
}

function missing(id: string, installer: Installer, why: string): BuilderError {
  const file = installer.lockfile ?? 'package.json';
  return new BuilderError(
    'SPROUT_ERR_BUILDER_PACKAGE_MANAGER_MISSING',
    `${id}: ${file} needs ${installer.tool}; ${why}`,
    { field: file },
  );
}

/**
 * The package manager's executable. npm must be on PATH. yarn and pnpm are taken from PATH when
 * there and not pinned by `packageManager`; otherwise the builder installs the version (pinned, or
 * the default for the lockfile's format) with npm from the configured npm registry into the cached
 * `package-manager` layer, which later builds reuse without the registry.
 */
export async function packageManager(ctx: BuildContext, id: string, installer: Installer): Promise<string> {
  const npm = onPath('npm', ctx.env.PATH);
  const fetch = installer.fetch;
  if (!fetch) {
    if (!npm) throw missing(id, installer, 'npm is not on PATH; install Node.js with npm and build again');
    return npm;
  }
  const local = onPath(installer.tool, ctx.env.PATH);
  const dir = join(ctx.layersDir, PACKAGE_MANAGER);
  if (local && !fetch.pinned) {
    mkdirSync(dir, { recursive: true }); // where Yarn 2+ keeps its install state
    return local;
  }
  const bin = join(dir, 'node_modules', '.bin', fetch.bin);
  const key = `${fetch.name}@${fetch.version}`;
  if (restoredMetadata(ctx.layersDir, PACKAGE_MANAGER).package === key && existsSync(bin)) {
    ctx.logs.line(`[${id}] reusing cached ${key}`);
  } else {
    const how = `install ${installer.tool} on PATH or make the npm registry reachable (npm config get registry), or remove ${installer.lockfile} to use npm, and build again`;
    if (!npm) throw missing(id, installer, `neither it nor npm (to install ${key}) is on PATH; ${how}`);
    rmSync(dir, { recursive: true, force: true });
    ctx.logs.line(`[${id}] installing ${key} from the npm registry`);
    const args = ['install', '--prefix', dir, '--no-save', '--ignore-scripts', ...NPM_FLAGS, key];
    const res = await execStreaming(npm, args, {
      cwd: ctx.appDir,
      env: ctx.env,
      logs: ctx.logs,
      prefix: `[${id}]   `,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    if (res.code !== 0 || !existsSync(bin)) {
      rmSync(dir, { recursive: true, force: true });
      throw missing(
        id,
        installer,
        `it is not on PATH and 'npm install ${key}' failed (exit ${res.code}: ${res.tail.slice(-3).join(' / ')}); ${how}`,
      );
    }
  }
  writeLayerToml(ctx.layersDir, PACKAGE_MANAGER, { build: true, cache: true }, { package: key });
  return bin;
}
