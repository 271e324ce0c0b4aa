import { createGateway, type Gateway } from '@sprout/gateway';
import { createLogger, type Logger } from '@sprout/observe';
import { startApi, type ApiServer } from './api.js';
import { PlatformError } from './errors.js';
import { createPlatform, type Platform } from './platform.js';
import { routesFor } from './routes.js';
import { watchSpecs } from './spec-watch.js';

export interface DevOptions {
  /** Folders and function.yaml files; empty restores what the data dir holds (else `.`). */
  paths: string[];
  cwd?: string;
  dataDir: string;
  /** Gateway port (0 picks one). */
  port: number;
  /** Gateway address (default 0.0.0.0). */
  host?: string;
  /** API port on 127.0.0.1 (0 picks one). */
  apiPort: number;
  /** One logger for everything (tests); by default the platform and the gateway get their own. */
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Instances reload a function when its files change; a load error answers 503 until fixed. */
  watch?: boolean;
  /** Pre-started processes kept for cold starts (default 1). */
  standby?: number;
}

export interface DevServer {
  platform: Platform;
  gateway: Gateway;
  api: ApiServer;
  /** Base URL of the gateway, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Stops the gateway (held requests 503, in-flight finish), the API, then drains every instance. */
  close(): Promise<void>;
}

/**
 * `sprout dev` as a library: the platform (registry + supervisor), the gateway in front of it with
 * routes from each Function, and the REST API (with the gateway's `/metrics`) on 127.0.0.1.
 *
 * @example
 * const dev = await startDev({ paths: ['examples/hello'], dataDir: '.sprout', port: 8080, apiPort: 9090 });
 * await fetch(`${dev.url}/`); // cold start, then the function's answer
 * await dev.close();
 */
export async function startDev(o: DevOptions): Promise<DevServer> {
  const logger = o.logger ?? createLogger({ name: 'sprout' });
  const platform = createPlatform({
    paths: o.paths,
    dataDir: o.dataDir,
    logger: o.logger ?? createLogger({ name: 'platform' }),
    ...(o.cwd ? { cwd: o.cwd } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.watch ? { watch: true } : {}),
    ...(o.standby !== undefined ? { standby: o.standby } : {}),
  });
  const gateway = createGateway({ logger: o.logger ?? createLogger({ name: 'gateway' }) });
  const applyRoutes = () => {
    const { routes, conflicts } = routesFor(platform.definitions(), (n) => platform.backend(n));
    for (const c of conflicts) platform.report(c);
    gateway.setRoutes(routes);
    return routes;
  };
  let routes;
  let api: ApiServer | undefined;
  try {
    routes = applyRoutes();
    const addr = await listening(gateway.listen(o.port, o.host ?? '0.0.0.0'), 'gateway', o.port, '--port');
    api = await listening(
      startApi(platform, { port: o.apiPort, metrics: () => gateway.metricsText() }),
      'API',
      o.apiPort,
      '--api-port',
    );
    const shown = addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address;
    const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${addr.port}`;
    for (const r of routes) {
      logger.info(
        {
          function: r.backend.name,
          url: `${url}${r.pathPrefixes?.[0] ?? '/'}`,
          paths: r.pathPrefixes,
          ...(r.hosts?.length ? { hosts: r.hosts } : {}),
        },
        'serving',
      );
    }
    logger.info({ url: api.url }, 'platform API');
    const unsubscribe = platform.events.subscribe((e) => {
      if (e.type === 'function.registered' || e.type === 'function.unregistered') applyRoutes();
    });
    const unwatch = o.watch ? watchSpecs(platform) : () => undefined;
    const started = api;
    return {
      platform,
      gateway,
      api: started,
      url,
      async close() {
        unsubscribe();
        unwatch();
        await gateway.close();
        await started.close();
        await platform.close();
      },
    };
  } catch (err) {
    await gateway.close().catch(() => undefined);
    await api?.close();
    await platform.close();
    throw err;
  }
}

/** Turns "address in use" into a coded error that says which flag to change. */
async function listening<T>(p: Promise<T>, what: string, port: number, flag: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_PORT_IN_USE',
      `the ${what} cannot listen on port ${port} (${code}); pick another with ${flag}`,
      500,
      { cause: err },
    );
  }
}
