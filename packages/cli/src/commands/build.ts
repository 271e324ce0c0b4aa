import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import {
  assembleRunImage,
  buildImage,
  parseSource,
  pulledRunImage,
  pushImage,
  type BuildOutput,
  type RunImageProvider,
  type TransferOptions,
} from '@sprout/builder';
import type { ResolvedFunction } from '@sprout/spec';
import { functionYamlOf } from '@sprout/spec/folder';
import { defineCommand, UsageError, type CommandIO } from '../command.js';

/** `--output oci-layout:DIR | docker-archive:FILE`. */
function parseOutput(text: string | undefined): BuildOutput | undefined {
  if (!text) return undefined;
  const colon = text.indexOf(':');
  const kind = colon > 0 ? text.slice(0, colon) : '';
  const where = text.slice(colon + 1);
  if (kind === 'oci-layout' && where) return { type: 'oci-layout', dir: where };
  if (kind === 'docker-archive' && where) return { type: 'docker-archive', file: where };
  throw new UsageError(`--output "${text}": write oci-layout:DIR or docker-archive:FILE`);
}

/** `--env K=V` (repeatable) into a map; a bare `K` takes K from this environment, as pack does. */
function parseEnv(list: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new UsageError(`--env "${item}": write NAME=VALUE`);
    out[key] = eq < 0 ? (env[key] ?? '') : item.slice(eq + 1);
  }
  return out;
}

/** `--creation-time now | <RFC 3339> | <unix seconds>`; none: the CNB constant (1980-01-01T00:00:01Z). */
function parseCreationTime(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  if (text === 'now') return new Date(Math.floor(Date.now() / 1000) * 1000);
  const d = /^\d+$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(`--creation-time "${text}": write now, an RFC 3339 time or unix seconds`);
  return d;
}

/** The folder of the installed @sprout/framework package (its package.json and dist). */
function frameworkDir(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@sprout/framework'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** `spec.build.srcRepo` as a git source (`url#revision:sourceSubPath`). */
function srcRepoSource(fn: ResolvedFunction): string | undefined {
  const repo = fn.build?.srcRepo;
  if (!repo?.url) return undefined;
  const sub = repo.sourceSubPath?.replace(/^\/+/, '');
  return `${repo.url}${repo.revision || sub ? `#${repo.revision ?? ''}${sub ? `:${sub}` : ''}` : ''}`;
}

/** The registry flags every image command shares (`--creds`, `--registry-ca`, `--plain-http`). */
export const REGISTRY_OPTIONS = {
  creds: {
    type: 'string',
    env: 'SPROUT_REGISTRY_CREDS',
    value: 'USER:PASSWORD',
    description: 'Registry credentials (default: $DOCKER_CONFIG/config.json)',
  },
  'registry-ca': { type: 'string', value: 'FILE', description: 'PEM CA certificate of the registry' },
  'plain-http': { type: 'boolean', description: 'Talk plain HTTP to a registry on localhost' },
} as const;

export function transferOptions(
  opts: { creds?: string | undefined; 'registry-ca'?: string | undefined; 'plain-http': boolean },
  io: CommandIO,
): TransferOptions {
  const colon = opts.creds?.indexOf(':') ?? -1;
  if (opts.creds !== undefined && colon <= 0) throw new UsageError('--creds: write USER:PASSWORD');
  return {
    ...(opts.creds
      ? { credentials: { username: opts.creds.slice(0, colon), password: opts.creds.slice(colon + 1) } }
      : {}),
    ...(opts['registry-ca'] ? { ca: readFileSync(resolve(io.cwd, opts['registry-ca'])) } : {}),
    ...(opts['plain-http'] ? { plainHttp: true } : {}),
    env: io.env,
  };
}

export default defineCommand({
  name: 'build',
  summary: 'Build an OCI image from source with buildpacks (no Dockerfile, no Docker daemon)',
  usage: 'sprout build [dir | git-url[#ref][:subdir]] --tag REF [options]',
  details: `
Runs a Cloud Native Buildpacks lifecycle (analyze, detect, restore, build, export) on the source
and writes an OCI image: the run image's layers, one layer per buildpack launch layer, the app at
/workspace, a process configuration; labels io.buildpacks.lifecycle.metadata, build.metadata and
project.metadata; runs as a non-root user. The same source gives the same image digest (every time
in the image is 1980-01-01T00:00:01Z unless --creation-time is given).

Without --buildpack, Sprout's Node.js buildpack builds the app: the Node.js version asked for
(BP_NODE_VERSION, engines.node, .nvmrc, .node-version) must be the one this machine runs; npm ci
(npm install without a lockfile; yarn or pnpm for their lockfiles), the build script or tsc, dev
dependencies pruned, a CycloneDX SBOM. A function folder (function.yaml, or a functions framework
dependency) runs on the Sprout functions framework; its function.yaml's spec.build is honoured:
build.env as --env values, srcRepo (url, revision, sourceSubPath) as the source, spec.image as the
default --tag. Dependency layers are cached under --data-dir, keyed by lockfile and Node.js version,
and with --cache-image in a registry image too, for CI runners that start empty.

The run image is assembled from this machine's Node.js (with its shared libraries, CA certificates
and a non-root user) unless --run-image names one to pull.

Examples:
  sprout build examples/hello --tag localhost:5000/hello:1 --output oci-layout:./hello-oci
  sprout build https://git.example.com/team/app.git#v1.2:services/api --tag registry.example.com/api:1.2 --push
  sprout build . --tag app:dev --buildpack ./my-buildpack --env BP_LOG_LEVEL=DEBUG --creation-time now
`,
  options: {
    tag: {
      type: 'string',
      short: 't',
      value: 'REF',
      description: 'Image name (default: function.yaml spec.image)',
    },
    push: { type: 'boolean', description: 'Push the image to the registry of --tag' },
    output: {
      type: 'string',
      short: 'o',
      value: 'oci-layout:DIR|docker-archive:FILE',
      description: 'Also write the image as an OCI layout folder or a docker-archive tar',
    },
    'run-image': {
      type: 'string',
      value: 'REF',
      description: 'Run image to pull and build on (default: assembled from the local Node.js)',
    },
    'cache-image': {
      type: 'string',
      value: 'REF',
      description: 'Keep the layer cache in this registry image too (pulled when the local cache is empty)',
    },
    env: {
      type: 'string',
      short: 'e',
      multiple: true,
      value: 'K=V',
      description: 'Environment for the buildpacks (repeatable)',
    },
    buildpack: {
      type: 'string',
      short: 'b',
      multiple: true,
      value: 'DIR',
      description: 'A CNB buildpack folder to run instead of the built-in Node.js one (repeatable, in order)',
    },
    'creation-time': {
      type: 'string',
      value: 'now|TIME',
      description: 'Creation time of the image (default 1980-01-01T00:00:01Z)',
    },
    'no-cache': { type: 'boolean', description: 'Do not restore or save the layer cache' },
    ...REGISTRY_OPTIONS,
    'data-dir': {
      type: 'string',
      env: 'SPROUT_DATA_DIR',
      default: '.sprout',
      value: 'DIR',
      description: 'Where the image store, the layer cache and scratch space are kept',
    },
  },
  async run(opts, positionals, io) {
    if (positionals.length > 1) throw new UsageError('give one source: a folder or a git URL');
    let source = positionals[0] ?? '.';
    let env = parseEnv(opts.env, io.env);
    let tag = opts.tag;
    let fn: ResolvedFunction | undefined;
    const spec = parseSource(source);
    if (spec.kind === 'dir') {
      const dir = resolve(io.cwd, spec.dir);
      if (existsSync(dir) && statSync(dir).isDirectory() && functionYamlOf(dir)) {
        const { loadFunctionDir } = await import('@sprout/spec');
        fn = loadFunctionDir(dir);
        env = { ...fn.build?.env, ...env };
        tag ??= fn.manifest?.spec.image;
        const repo = srcRepoSource(fn);
        if (repo) {
          io.stderr.write(`function ${fn.name}: building spec.build.srcRepo ${repo}\n`);
          source = repo;
        }
        if (fn.build?.builder)
          io.stderr.write(
            `function ${fn.name}: spec.build.builder ${fn.build.builder} is for clusters; built here with Sprout's Node.js buildpack\n`,
          );
      }
    }
    if (!tag) throw new UsageError('--tag is required (or spec.image in function.yaml)');
    const output = parseOutput(opts.output);
    const created = parseCreationTime(opts['creation-time']);
    const transfer = transferOptions(opts, io);
    const runImageRef = opts['run-image'];
    const runImage: RunImageProvider = runImageRef
      ? (layout) => pulledRunImage(layout, runImageRef, transfer)
      : (layout) => assembleRunImage(layout);
    const started = Date.now();
    const result = await buildImage({
      source,
      cwd: io.cwd,
      tag,
      dataDir: opts['data-dir'],
      ...(output ? { output } : {}),
      env,
      buildpacks: opts.buildpack,
      ...(created ? { created } : {}),
      cache: !opts['no-cache'],
      ...(opts['cache-image'] ? { cacheImage: { ref: opts['cache-image'], transfer } } : {}),
      runImage,
      node: {
        frameworkDir: frameworkDir(),
        ...(fn
          ? {
              function: {
                ...(fn.target ? { target: fn.target } : {}),
                ...(fn.signatureType ? { signatureType: fn.signatureType } : {}),
              },
            }
          : {}),
      },
      logs: { line: (text) => io.stdout.write(`${text}\n`) },
    });
    if (opts.push) {
      io.stdout.write(`===> PUSHING ${tag}\n`);
      const t = Date.now();
      const pushed = await pushImage(result.layout, result.image, tag, transfer);
      io.stdout.write(
        `     ${pushed.uploaded} blobs uploaded, ${pushed.existing} already there, ${pushed.mounted} mounted in ${((Date.now() - t) / 1000).toFixed(1)}s\n`,
      );
    }
    io.stdout.write(
      `Successfully built ${tag} ${result.image.descriptor.digest} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
    );
    return 0;
  },
});
