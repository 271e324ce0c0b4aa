import { watch, type FSWatcher } from 'node:fs';
import { createLogger, type Logger } from '@sprout/observe';
import { FrameworkError } from './errors.js';
import { installExecutionIdLogging } from './execution-log.js';
import { loadFunction, type FunctionConfig, type LoadedFunction } from './load.js';
import { FunctionServer, type Mount } from './server.js';
import type { Invoker } from './signatures/invoker.js';
import { daprBindingRoutes, daprSubscriptions } from './dapr-subscriptions.js';

export interface ServeOptions {
  /** One function, or several mounted at their `path`s. */
  functions: FunctionConfig | FunctionConfig[];
  /** Port to listen on; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to bind; all interfaces by default, as the anchors. */
  host?: string;
  bodyLimit?: number;
  timeoutMs?: number;
  /** Paths answered 404 without calling a function. Default: /favicon.ico and /robots.txt. */
  ignoredRoutes?: string[];
  /** Reload a function when a file in its folder changes; in-flight requests finish on the old code. */
  watch?: boolean;
  /** Log each console line a function writes as JSON with its execution id. */
  logExecutionId?: boolean;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  drainTimeoutMs?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly server: FunctionServer;
  readonly functions: readonly LoadedFunction[];
  /** Reloads every function from its source now (what a file change does under `watch`). */
  reload(): Promise<void>;
  /** Stops accepting, drains in-flight requests, closes outputs, stores and watchers. */
  close(): Promise<void>;
}

export const DEFAULT_IGNORED_ROUTES = ['/favicon.ico', '/robots.txt'];

/**
 * Serves functions over HTTP. The programmatic form of `sprout run`.
 *
 * @example
 * const running = await serve({ functions: { source: './hello' }, port: 0 });
 * await fetch(running.url);
 * await running.close();
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ name: 'framework' });
  const configs = Array.isArray(options.functions) ? options.functions : [options.functions];
  const server = new FunctionServer({
    logger,
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
    ignoredRoutes: options.ignoredRoutes ?? DEFAULT_IGNORED_ROUTES,
    // Tagging a log line needs the request's context, also in a callback that runs after the answer.
    keepAsyncContext: options.logExecutionId ?? false,
  });
  const env = options.env ?? process.env;
  const loaded: (LoadedFunction | undefined)[] = [];
  for (const config of configs) {
    const path = config.path ?? (configs.length > 1 ? `/${config.target ?? ''}` : '');
    let fn: LoadedFunction | undefined;
    let loadError: unknown;
    try {
      fn = await loadFunction(config, { env, logger });
    } catch (err) {
      loadError = err;
      // Under watch a broken module answers 503 until it is fixed; otherwise it is a startup error.
      if (!options.watch) {
        await Promise.allSettled(loaded.map((l) => l?.close()));
        throw err;
      }
      logger.error(
        { err, source: config.source },
        'function failed to load; answering 503 until it is fixed',
      );
    }
    loaded.push(fn);
    server.mount({
      path,
      name: fn?.name ?? config.target ?? config.source ?? 'function',
      signatureType: fn?.signatureType ?? config.signatureType ?? 'http',
      invoker: fn?.invoker ?? brokenInvoker(loadErrorOf(loadError)),
      tracing: fn?.tracing,
      subscriptions: fn && daprSubscriptions(fn.resources.context),
      bindingRoutes: fn && daprBindingRoutes(fn.resources.context),
    });
  }
  const mounts = server.mounts;
  const restoreConsole = options.logExecutionId
    ? installExecutionIdLogging(() => server.currentExecution())
    : undefined;

  const reloadOne = async (i: number): Promise<void> => {
    const config = configs[i]!;
    const previous = loaded[i];
    const path = normalizedPath(mounts, config, configs.length, i);
    try {
      const fn = await loadFunction(config, {
        env,
        logger,
        fresh: true,
        ...(previous ? { resources: previous.resources, tracing: previous.tracing } : {}),
      });
      loaded[i] = fn;
      server.replace(path, {
        invoker: fn.invoker,
        name: fn.name,
        signatureType: fn.signatureType,
        tracing: fn.tracing,
      });
      logger.info({ function: fn.name }, 'reloaded');
    } catch (err) {
      logger.error({ err, source: config.source }, 'reload failed; answering 503 until the code loads');
      server.replace(path, { invoker: brokenInvoker(loadErrorOf(err)) });
    }
  };

  const watchers: FSWatcher[] = [];
  if (options.watch) {
    configs.forEach((config, i) => {
      const dir = loaded[i]?.module?.dir ?? config.source;
      if (!dir || config.fn) return;
      let timer: NodeJS.Timeout | undefined;
      const w = watch(dir, { recursive: true }, (_event, file) => {
        if (
          file &&
          (/(^|\/)(node_modules|\.git|\.sprout)(\/|$)/.test(file) || !/\.(m|c)?(j|t)sx?$|\.json$/.test(file))
        )
          return;
        clearTimeout(timer);
        timer = setTimeout(() => void reloadOne(i), 80);
      });
      w.on('error', (err) => logger.warn({ err }, 'file watcher failed'));
      watchers.push(w);
    });
  }

  let addr;
  try {
    addr = await server.listen(options.port ?? 8080, options.host);
  } catch (err) {
    watchers.forEach((w) => w.close());
    await Promise.allSettled(loaded.map((l) => l?.close()));
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      throw new FrameworkError(
        'SPROUT_ERR_FRAMEWORK_INVALID_OPTION',
        `port ${options.port} is already in use; choose another with --port or PORT`,
        { field: '--port' },
      );
    }
    throw err;
  }
  const host =
    !options.host || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`,
    port: addr.port,
    server,
    get functions() {
      return loaded.filter((l): l is LoadedFunction => l !== undefined);
    },
    reload: async () => {
      for (let i = 0; i < configs.length; i++) await reloadOne(i);
    },
    close: () =>
      (closing ??= (async () => {
        watchers.forEach((w) => w.close());
        await server.close();
        restoreConsole?.();
        await Promise.allSettled(loaded.map((l) => l?.close()));
      })()),
  };
}

function normalizedPath(mounts: readonly Mount[], config: FunctionConfig, count: number, _i: number): string {
  const want = (config.path ?? (count > 1 ? `/${config.target ?? ''}` : '')).replace(/\/+$/, '');
  const p = want === '' ? '' : want.startsWith('/') ? want : `/${want}`;
  return mounts.find((m) => m.path === p)?.path ?? p;
}

function loadErrorOf(err: unknown): FrameworkError {
  if (err instanceof FrameworkError) return err;
  return new FrameworkError(
    'SPROUT_ERR_FRAMEWORK_MODULE_LOAD_FAILED',
    err ? String((err as Error).message) : 'the function failed to load',
    {
      cause: err,
    },
  );
}

function brokenInvoker(err: FrameworkError): Invoker {
  return async (_req, res) => {
    res.statusCode = 503;
    res.setHeader('x-sprout-status', 'error');
    res.setHeader('x-sprout-error-code', err.code);
    res.json({ error: { code: err.code, message: err.message } });
  };
}
