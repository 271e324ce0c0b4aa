import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { stringify } from 'smol-toml';
import { BuilderError } from '../../errors.js';
import type { Buildpack, BuildContext } from '../../lifecycle/buildpack.js';
import { IMAGE_APP_DIR, IMAGE_LAYERS_DIR } from '../../lifecycle/export.js';
import { layersDirName } from '../../lifecycle/layers.js';
import { copyPackageClosure } from './closure.js';
import { hashOf, onPath, restoredMetadata, writeEnvFile, writeLayerToml } from './layer-files.js';
import { installModules, linkNodeModules, LAUNCH_MODULES, step } from './modules.js';
import {
  detectsNode,
  ENTRY_FILES,
  isFunctionApp,
  readPackageJson,
  startCommand,
  type PackageJson,
} from './project.js';
import { checkNodeVersion, requestedNodeVersion } from './version.js';

export interface NodeBuildpackOptions {
  /** The Node.js the image runs (default: this process's, which is what the run image carries). */
  nodeVersion?: string;
  /**
   * The Sprout functions framework package folder (its package.json and dist), copied with its
   * production dependencies into a layer for function folders. `sprout build` passes it.
   */
  frameworkDir?: string;
  /** Target and signature type of a function folder, as its function.yaml resolved them. */
  function?: { target?: string; signatureType?: string };
}

const ID = 'sprout/node';
const FRAMEWORK = 'framework';

/** The program a function image runs: what `sprout run` does, from the framework layer. */
const SERVE_SCRIPT = `// Serves the function in /workspace as 'sprout run' does (written by the sprout/node buildpack).
import { loadFunctionDir } from '@sprout/spec';
import { instanceFunction, instanceSpec, resolveRunOptions, runInstance } from '@sprout/framework/instance';

const env = process.env;
const dir = env.FUNCTION_SOURCE || '${IMAGE_APP_DIR}';
const fn = loadFunctionDir(dir);
for (const [k, v] of Object.entries(fn.env)) if (env[k] === undefined) env[k] = v;
const o = resolveRunOptions({
  port: env.PORT, host: env.HOST, target: env.FUNCTION_TARGET, signatureType: env.FUNCTION_SIGNATURE_TYPE,
  source: dir, context: env.FUNC_CONTEXT, timeout: env.CLOUD_RUN_TIMEOUT_SECONDS,
  ignoredRoutes: env.IGNORED_ROUTES, logExecutionId: env.LOG_EXECUTION_ID, bodyLimit: env.SPROUT_BODY_LIMIT,
});
const f = instanceFunction(fn);
const spec = instanceSpec(
  [{ ...f, source: dir, ...(o.target ? { target: o.target } : {}), ...(o.signatureType ? { signatureType: o.signatureType } : {}), ...(o.context ? { context: o.context } : {}) }],
  o,
  { watch: false, dataDir: env.SPROUT_DATA_DIR || '/tmp/sprout' },
);
process.exitCode = await runInstance(spec, env);
`;

/** Where a layer of this buildpack is inside the image. */
const imageLayer = (name: string) => `${IMAGE_LAYERS_DIR}/${layersDirName(ID)}/${name}`;

/**
 * Sprout's built-in Node.js buildpack, behaving as Paketo's Node.js buildpacks do: it checks the
 * Node.js version asked for, installs the dependencies by lockfile into cached layers (dev
 * dependencies pruned from the one launched), runs the `build` script or `tsc`, writes a CycloneDX
 * SBOM of node_modules, and declares the `web` process: the start script, or for a function folder
 * the Sprout functions framework serving it.
 */
export function nodeBuildpack(options: NodeBuildpackOptions = {}): Buildpack {
  const nodeVersion = options.nodeVersion ?? process.versions.node;
  return {
    info: {
      id: ID,
      version: '0.1.0',
      api: '0.10',
      name: 'Sprout Node.js',
      homepage: 'https://github.com/sprout',
    },
    looksFor: `package.json, function.yaml or an entry file (${ENTRY_FILES.join(', ')})`,
    detect(ctx) {
      if (!detectsNode(ctx.appDir)) return Promise.resolve(false);
      writeFileSync(
        ctx.planPath,
        stringify({
          provides: [{ name: 'node' }],
          requires: [{ name: 'node', metadata: { version: nodeVersion } }],
        }),
      );
      return Promise.resolve(true);
    },
    async build(ctx) {
      const pkg = readPackageJson(ctx.appDir);
      const req = requestedNodeVersion(ctx.appDir, ctx.env);
      checkNodeVersion(req, nodeVersion);
      ctx.logs.line(`[${ID}] Node.js ${nodeVersion}${req ? ` (${req.source} asks for ${req.range})` : ''}`);
      const buildStep = () => runBuildStep(ctx, pkg);
      const deps = pkg && Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).length > 0;
      if (pkg && deps) {
        await installModules(ctx, ID, pkg, nodeVersion, buildStep);
        linkNodeModules(ctx.appDir, relative(IMAGE_APP_DIR, `${imageLayer(LAUNCH_MODULES)}/node_modules`));
      } else {
        rmSync(join(ctx.layersDir, LAUNCH_MODULES), { recursive: true, force: true });
        await buildStep();
      }
      // A function: a function.yaml, a functions framework dependency, a function.yaml the platform
      // resolved, or (with the framework at hand) a folder with nothing else to start, as
      // 'sprout run' serves it.
      const start = startCommand(ctx.appDir, pkg);
      const fn =
        isFunctionApp(ctx.appDir, pkg) ||
        options.function !== undefined ||
        (!start && options.frameworkDir !== undefined);
      if (!fn && !start)
        throw new BuilderError(
          'SPROUT_ERR_BUILDER_BUILD_FAILED',
          `${ID}: nothing to start: add a "start" script to package.json, a server.js, or a function.yaml`,
          { field: 'package.json' },
        );
      const command = fn ? frameworkLayer(ctx, options) : start!;
      ctx.logs.line(`[${ID}] process web: ${command.join(' ')}`);
      if (command[0] === 'sh')
        ctx.logs.line(
          `[${ID}] warning: the start script needs a shell; the default run image has none (use a plain "node …" start script or --run-image with /bin/sh)`,
        );
      writeFileSync(
        join(ctx.layersDir, 'launch.toml'),
        stringify({ processes: [{ type: 'web', command, args: [], default: true }] }),
      );
    },
  };
}

/** The `build` script, else `tsc` when there is a tsconfig.json and TypeScript is installed. */
async function runBuildStep(ctx: BuildContext, pkg: PackageJson | undefined): Promise<void> {
  const direct = pkg ? directScript(ctx.appDir, pkg, 'build') : undefined;
  if (direct) {
    // What `npm run build` would run, without npm's own start-up (half a second of a rebuild).
    const bin = join(ctx.appDir, 'node_modules', '.bin');
    await step(ctx, ID, direct.file, direct.args, 'the build script', {
      PATH: `${bin}${delimiter}${ctx.env.PATH ?? ''}`,
      npm_lifecycle_event: 'build',
      npm_lifecycle_script: pkg!.scripts!.build!,
    });
    return;
  }
  if (pkg?.scripts?.build) {
    const npm = onPath('npm', ctx.env.PATH);
    if (!npm)
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_PACKAGE_MANAGER_MISSING',
        `${ID}: the build script needs npm on PATH`,
        { field: 'package.json' },
      );
    await step(ctx, ID, npm, ['run', 'build'], 'the build script');
    return;
  }
  if (!existsSync(join(ctx.appDir, 'tsconfig.json'))) return;
  const tsc = join(ctx.appDir, 'node_modules', '.bin', 'tsc');
  if (existsSync(tsc)) await step(ctx, ID, tsc, ['-p', '.'], 'tsc');
  else ctx.logs.line(`[${ID}] tsconfig.json but no typescript in the dependencies: tsc skipped`);
}

/**
 * A script that is one program of `node_modules/.bin` with plain arguments (`tsc -p .`), with no
 * pre/post script: run directly it does what `npm run` does. Anything with shell syntax, quotes or
 * variables goes through npm.
 */
function directScript(
  appDir: string,
  pkg: PackageJson,
  name: string,
): { file: string; args: string[] } | undefined {
  const script = pkg.scripts?.[name];
  if (!script || pkg.scripts?.[`pre${name}`] || pkg.scripts?.[`post${name}`]) return undefined;
  if (!/^[\w@.-]+( +[\w@./=:,+-]+)* *$/.test(script)) return undefined;
  const [program, ...args] = script.trim().split(/ +/);
  const file = join(appDir, 'node_modules', '.bin', program!);
  return existsSync(file) ? { file, args } : undefined;
}

/** The framework layer (Sprout's functions framework and what it needs) and the command serving the function. */
function frameworkLayer(ctx: BuildContext, options: NodeBuildpackOptions): string[] {
  if (!options.frameworkDir)
    throw new BuilderError(
      'SPROUT_ERR_BUILDER_OPTION_INVALID',
      `${ID}: a function folder runs on the Sprout functions framework, and no frameworkDir was given; build it with 'sprout build'`,
      { field: 'frameworkDir' },
    );
  const dir = join(ctx.layersDir, FRAMEWORK);
  const manifest = readFileSync(join(options.frameworkDir, 'package.json'), 'utf8');
  const key = hashOf(manifest, SERVE_SCRIPT, readFileSync(join(options.frameworkDir, 'dist', 'index.js')));
  if (restoredMetadata(ctx.layersDir, FRAMEWORK).key === key && existsSync(join(dir, 'serve.mjs'))) {
    ctx.logs.line(`[${ID}] reusing cached framework layer`);
  } else {
    rmSync(dir, { recursive: true, force: true });
    const n = copyPackageClosure(options.frameworkDir, join(dir, 'node_modules'));
    writeFileSync(join(dir, 'serve.mjs'), SERVE_SCRIPT);
    ctx.logs.line(`[${ID}] framework layer: @sprout/framework and ${n - 1} packages`);
  }
  const fn = options.function ?? {};
  writeEnvFile(dir, 'env.launch', 'FUNCTION_TARGET.default', fn.target);
  writeEnvFile(dir, 'env.launch', 'FUNCTION_SIGNATURE_TYPE.default', fn.signatureType);
  writeLayerToml(ctx.layersDir, FRAMEWORK, { launch: true, cache: true }, { key });
  return ['node', join(dir, 'serve.mjs')];
}
