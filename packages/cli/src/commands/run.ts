import { resolve } from 'node:path';
import { resolveRunOptions, serve, type FunctionConfig } from '@sprout/framework';
import { createLogger } from '@sprout/observe';
import { defineCommand, type CommandIO } from '../command.js';
import { loadComponentSpecs } from '../components.js';
import { untilSignal } from '../signals.js';
import { stateStoreOpener } from '../state-stores.js';

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
  const logger = createLogger({ name: 'sprout' });
  const components = opts['resources-path'] ? await loadComponentSpecs(opts['resources-path'] as string) : [];
  const openStateStore = stateStoreOpener({
    resourcesPath: opts['resources-path'] as string | undefined,
    dataDir: resolve(io.cwd, opts['data-dir'] as string),
    env: io.env,
  });
  const list = sources.length > 1 ? sources : [o.source];
  const functions: FunctionConfig[] = list.map((source) => ({
    source,
    ...(o.target && list.length === 1 ? { target: o.target } : {}),
    ...(o.signatureType ? { signatureType: o.signatureType } : {}),
    ...(o.context ? { context: o.context } : {}),
    ...(list.length > 1 ? { path: `/${source.replace(/\/+$/, '').split('/').pop()}` } : {}),
    components,
    openStateStore,
  }));
  const running = await serve({
    functions,
    port: o.port,
    ...(o.host ? { host: o.host } : {}),
    timeoutMs: o.timeoutMs,
    ...(o.ignoredRoutes ? { ignoredRoutes: o.ignoredRoutes } : {}),
    ...(o.bodyLimit ? { bodyLimit: o.bodyLimit } : {}),
    logExecutionId: o.logExecutionId,
    watch,
    logger,
    env: io.env,
  });
  // When whoever reads our output goes away, writes fail with EPIPE: drop them quietly rather
  // than log the failure (which would fail again) and keep serving until told to stop.
  let outputGone = false;
  const onPipeError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') outputGone = true;
  };
  process.stdout.on('error', onPipeError);
  process.stderr.on('error', onPipeError);
  const onStray = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') {
      outputGone = true;
      return;
    }
    if (!running.server.handleStrayError(err) && !outputGone)
      logger.error({ err }, 'uncaught error outside any request');
  };
  process.on('uncaughtException', onStray);
  process.on('unhandledRejection', onStray);
  for (const m of running.server.mounts) {
    logger.info(
      { function: m.name, signature: m.signatureType, url: `${running.url}${m.path || '/'}` },
      'serving',
    );
  }
  if (watch) logger.info('watching for changes');
  const signal = await untilSignal();
  logger.info({ signal, inflight: running.server.inflight }, 'shutting down: finishing in-flight requests');
  await running.close();
  process.off('uncaughtException', onStray);
  process.off('unhandledRejection', onStray);
  logger.info('stopped');
  return 0;
}

export default defineCommand({
  name: 'run',
  summary: 'Serve one function folder with the functions framework',
  usage: 'sprout run [dir] [options]',
  details: `
Runs functions written for Google's functions framework and OpenFunction's unchanged: the same
flags and environment variables. TypeScript runs without a build step.

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
