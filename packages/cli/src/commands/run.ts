import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  instanceFunction,
  instanceSpec,
  resolveRunOptions,
  runInstance,
  type InstanceFunction,
} from '@sprout/framework/instance';
import { dnsLabel } from '@sprout/kube/names';
import type { ResolvedFunction } from '@sprout/spec';
import { loadFunctionYamlCached } from '@sprout/spec/cache';
import { functionYamlOf, packageVersion, plainFunction } from '@sprout/spec/folder';
import { defineCommand, type CommandIO } from '../command.js';

/** The anchors' flags and environment variables, shared by `run` and `dev`. */
export const frameworkOptions = {
  port: {
    type: 'string',
    env: 'PORT',
    default: '8080',
    value: 'PORT',
    description: 'Port to listen on (0 picks a free one)',
  },
  host: {
    type: 'string',
    env: 'HOST',
    value: 'ADDR',
    description: 'Address to bind (default: all interfaces)',
  },
  target: {
    type: 'string',
    env: 'FUNCTION_TARGET',
    value: 'NAME',
    description: 'Export or registered name of the function; dotted paths reach into objects',
  },
  'signature-type': {
    type: 'string',
    env: 'FUNCTION_SIGNATURE_TYPE',
    value: 'TYPE',
    description: 'http | event | cloudevent | openfunction | typed (default: the registration, else http)',
  },
  source: {
    type: 'string',
    env: 'FUNCTION_SOURCE',
    value: 'PATH',
    description: 'Function folder or file (default: the positional folder, else .)',
  },
  context: {
    type: 'string',
    env: 'FUNC_CONTEXT',
    value: 'JSON',
    description:
      'OpenFunction function context (JSON): name, runtime, inputs, outputs, states, plugins, tracing',
  },
  timeout: {
    type: 'string',
    env: 'CLOUD_RUN_TIMEOUT_SECONDS',
    value: 'SECONDS',
    description: 'Request timeout; aborts req.signal and answers 408 (0 = none)',
  },
  'ignored-routes': {
    type: 'string',
    env: 'IGNORED_ROUTES',
    value: 'PATHS',
    description:
      'Comma-separated paths answered 404 without calling the function (default /favicon.ico,/robots.txt; a trailing * matches a prefix)',
  },
  'log-execution-id': {
    type: 'boolean',
    env: 'LOG_EXECUTION_ID',
    description: "Write the function's console lines as JSON with the execution id",
  },
  'body-limit': {
    type: 'string',
    env: 'SPROUT_BODY_LIMIT',
    value: 'SIZE',
    description: 'Largest request body, e.g. 10mb (413 above it; default 10mb)',
  },
  'data-dir': {
    type: 'string',
    env: 'SPROUT_DATA_DIR',
    default: '.sprout',
    value: 'DIR',
    description: 'Where embedded state (SQLite) is kept',
  },
  'resources-path': {
    type: 'string',
    env: 'SPROUT_RESOURCES_PATH',
    value: 'DIR',
    description:
      'Folder of Dapr component YAML: state stores (sqlite, redis, postgresql) and outputs (bindings.http, bindings.mqtt3, pubsub.mqtt3)',
  },
} as const;

/**
 * The function a `sprout run` source names, resolved by @sprout/spec: a folder's function.yaml
 * (target, signature, context and components from it) or, for a plain folder or a file, the
 * defaults. Flags and environment variables given to `sprout run` win over the function.yaml. The
 * YAML reader and its schemas load only for a folder whose function.yaml changed since it was last
 * resolved (the result is kept under `<data-dir>/cache`).
 */
async function resolveSource(source: string, cwd: string, cacheDir: string): Promise<ResolvedFunction> {
  const abs = resolve(cwd, source);
  const isDir = existsSync(abs) && statSync(abs).isDirectory();
  const yamlFile = isDir ? functionYamlOf(abs) : undefined;
  if (yamlFile) return loadFunctionYamlCached(yamlFile, cacheDir);
  return plainFunction(dnsLabel(basename(abs)), abs, isDir ? packageVersion(abs) : undefined);
}

export async function runFunctions(
  opts: Record<string, string | boolean | undefined>,
  sources: string[],
  io: CommandIO,
  watch: boolean,
): Promise<number> {
  const o = resolveRunOptions({
    port: opts.port as string,
    host: opts.host as string | undefined,
    target: opts.target as string | undefined,
    signatureType: opts['signature-type'] as string | undefined,
    source: (opts.source as string | undefined) ?? sources[0],
    context: opts.context as string | undefined,
    timeout: opts.timeout as string | undefined,
    ignoredRoutes: opts['ignored-routes'] as string | undefined,
    logExecutionId: opts['log-execution-id'] as boolean,
    bodyLimit: opts['body-limit'] as string | undefined,
  });
  const resourcesPath = opts['resources-path'] as string | undefined;
  const resources = resourcesPath
    ? (await import('@sprout/spec')).loadResources(resolve(io.cwd, resourcesPath)).components
    : [];
  const list = sources.length > 1 ? sources : [o.source];
  const dataDir = resolve(io.cwd, opts['data-dir'] as string);
  const cacheDir = join(dataDir, 'cache');
  const resolvedList = await Promise.all(list.map((source) => resolveSource(source, io.cwd, cacheDir)));
  const functions: InstanceFunction[] = list.map((source, i) => {
    const resolved = resolvedList[i]!;
    // The function.yaml's environment (template env, params), as its instances under `sprout dev`
    // get it; variables already set win.
    for (const [k, v] of Object.entries(resolved.env)) if (io.env[k] === undefined) io.env[k] = v;
    const fn = instanceFunction(resolved);
    // A --resources-path component replaces one of the same name from function.yaml, as the local
    // resources folder is what `dapr run` would read.
    const names = new Set(resources.map((c) => c.metadata.name));
    return {
      ...fn,
      source,
      ...(o.target && list.length === 1 ? { target: o.target } : {}),
      ...(o.signatureType ? { signatureType: o.signatureType } : {}),
      ...(o.context ? { context: o.context } : {}),
      ...(list.length > 1 ? { path: `/${source.replace(/\/+$/, '').split('/').pop()}` } : {}),
      components: [...fn.components.filter((c) => !names.has(c.metadata.name)), ...resources],
    };
  });
  const spec = instanceSpec(functions, o, { watch, dataDir });
  return runInstance(spec, io.env);
}

export default defineCommand({
  name: 'run',
  summary: 'Serve one function folder with the functions framework',
  usage: 'sprout run [dir] [options]',
  details: `
Runs functions written for Google's functions framework and OpenFunction's unchanged: the same
flags and environment variables. TypeScript runs without a build step. A folder with a
function.yaml (OpenFunction Function) runs as that Function: its FUNCTION_TARGET and signature
params, its outputs and states; flags win over it.

Examples:
  sprout run examples/hello
  sprout run ./fn --target=helloWorld --signature-type=cloudevent --port 3000
  FUNC_CONTEXT='{"name":"f","runtime":"knative"}' sprout run ./fn --signature-type openfunction
`,
  options: {
    ...frameworkOptions,
    watch: {
      type: 'boolean',
      description: 'Reload the function when its files change (in-flight requests finish on the old code)',
    },
  },
  run: (opts, positionals, io) => runFunctions(opts, positionals, io, opts.watch),
});
