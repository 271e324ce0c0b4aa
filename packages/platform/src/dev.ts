import { resolve } from 'node:path';
import { createGateway, type Gateway } from '@sprout/gateway';
import { createLogger, type Logger } from '@sprout/observe';
import { isSproutError, loadOrCreateToken, type MountedSite, type ServerLimits } from '@sprout/http';
import { createMetrics } from '@sprout/observe/metrics';
import { FunctionAddresses } from './addresses.js';
import { AsyncHost } from './async-host.js';
import type { ResolvedFunction } from '@sprout/spec';
import { startTelemetry, type Telemetry } from './telemetry.js';
import { startApi, type ApiServer } from './api.js';
import { BuildManager } from './builds.js';
import { PlatformError } from './errors.js';
import { startFresh } from './data-dir.js';
import { createPlatform, type Platform } from './platform.js';
import { routesFor } from './routes.js';
import { watchSpecs } from './spec-watch.js';
import { reportLoaded } from './start-report.js';

export interface DevOptions {
  /** Folders and function.yaml files; empty restores what the data dir holds (else `.`). */
  paths: string[];
  cwd?: string;
  dataDir: string;
  /**
   * Start clean: what earlier runs kept in the data dir (registry, EIP store, logs, state, cache) is
   * moved to `<dataDir>/previous/` first, replacing what an earlier fresh start moved there.
   */
  fresh?: boolean;
  /** Gateway port (0 picks one). */
  port: number;
  /** Gateway address (default 127.0.0.1, loopback only; `0.0.0.0` or `::` exposes it). */
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
  /**
   * The collector: functions' logs (`fn.<namespace>.<name>`) and the gateway's metrics
   * (`sprout.gateway.metrics`) through a fluent-bit config's pipeline, by default JSON lines under
   * `<dataDir>/logs/`. `false` turns it off.
   */
  collector?: false | { configFile?: string; scrapeIntervalMs?: number; rotateBytes?: number };
  /**
   * Load-balancer addresses from EIP pools for every exposed function (`<dataDir>/eip.db`, shared
   * with `sprout eip`). `apply` is Eip/BgpConf/BgpPeer/Namespace YAML applied at start. `false`
   * turns it off.
   */
  eip?: false | { apply?: string; announce?: boolean };
  /**
   * Bounds of the two listeners, each its own (a flood on the gateway port does not use up the
   * API's): `gateway` and `api` are `ServerLimits` (`@sprout/http` defaults; the API 1 024
   * connections), `maxConnectionsPerInstance` the gateway's cap of sockets to one instance (128).
   */
  limits?: { gateway?: ServerLimits; api?: ServerLimits; maxConnectionsPerInstance?: number };
  /**
   * Port of the Dapr publish/bindings API on 127.0.0.1 (0, the default, picks one): async functions'
   * instances get it as DAPR_HTTP_PORT, so `ctx.send` and the Dapr SDK reach it.
   */
  daprHttpPort?: number;
  /** Dapr Components and Subscriptions for async functions (`--resources-path`). */
  resourcesPath?: string;
  /** The console (`@sprout/console`'s `createConsole`), served on the API's listener under its guard. */
  site?: MountedSite;
}

export interface DevServer {
  platform: Platform;
  gateway: Gateway;
  api: ApiServer;
  telemetry?: Telemetry;
  addresses?: FunctionAddresses;
  /** The Dapr publish/bindings API and the async functions' deliveries. */
  async: AsyncHost;
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
  if (o.fresh) startFresh(o.dataDir, logger);
  const token = loadOrCreateToken(o.dataDir);
  const registry = createMetrics();
  const asyncHost = await listening(
    AsyncHost.listen({
      logger,
      token: token.token,
      port: o.daprHttpPort ?? 0,
      metrics: registry,
      env: o.env ?? process.env,
      dataDir: o.dataDir,
      ...(o.resourcesPath ? { resourcesPath: resolve(o.cwd ?? process.cwd(), o.resourcesPath) } : {}),
    }),
    'Dapr API',
    o.daprHttpPort ?? 0,
    '--dapr-http-port',
  );
  const platform = createPlatform({
    envFor: asyncHost.envFor,
    paths: o.paths,
    dataDir: o.dataDir,
    logger: o.logger ?? createLogger({ name: 'platform' }),
    ...(o.cwd ? { cwd: o.cwd } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.watch ? { watch: true } : {}),
    ...(o.standby !== undefined ? { standby: o.standby } : {}),
  });
  const gateway = createGateway({
    logger: o.logger ?? createLogger({ name: 'gateway' }),
    metrics: registry,
    ...(o.limits?.gateway ? { limits: o.limits.gateway } : {}),
    ...(o.limits?.maxConnectionsPerInstance
      ? { maxConnectionsPerInstance: o.limits.maxConnectionsPerInstance }
      : {}),
  });
  let addresses: FunctionAddresses | undefined;
  let telemetry: Telemetry | undefined;
  const addressOf = (def: ResolvedFunction) => {
    const a = addresses?.of(def);
    return a?.status === 'allocated' ? a.addresses : [];
  };
  const applyRoutes = () => {
    const { routes, conflicts } = routesFor(platform.definitions(), (n) => platform.upstream(n), addressOf);
    for (const c of conflicts) platform.report(c);
    gateway.setRoutes(routes);
    return routes;
  };
  let routes;
  let api: ApiServer | undefined;
  const cleanups: (() => void)[] = [];
  try {
    // Nothing loaded: fail with the reasons rather than serve nothing; some broken: say which.
    reportLoaded(platform, logger, o.cwd ?? process.cwd());
    if (o.eip !== false) {
      addresses = await FunctionAddresses.open({
        dataDir: o.dataDir,
        logger,
        metrics: registry,
        definitions: () => platform.definitions(),
        events: platform.events,
        ...(o.eip?.apply !== undefined ? { apply: o.eip.apply } : {}),
        ...(o.eip?.announce !== undefined ? { announce: o.eip.announce } : {}),
      });
      await addresses.sync();
      cleanups.push(addresses.subscribe(() => applyRoutes()));
    }
    if (o.collector !== false) {
      // A collector that cannot start (an input's port taken, an output unreachable at start) is
      // isolated: functions, gateway and API are served without it, and the log says so. A config
      // that is wrong is still refused.
      try {
        telemetry = await startTelemetry({
          dataDir: o.dataDir,
          logs: platform.logs,
          metrics: registry,
          logger,
          events: platform.events,
          ...(o.collector?.configFile ? { configFile: o.collector.configFile } : {}),
          ...(o.collector?.scrapeIntervalMs ? { scrapeIntervalMs: o.collector.scrapeIntervalMs } : {}),
          ...(o.collector?.rotateBytes ? { rotateBytes: o.collector.rotateBytes } : {}),
        });
      } catch (err) {
        if (isSproutError(err, 'SPROUT_ERR_PLATFORM_COLLECTOR')) throw err;
        logger.error({ err }, 'the collector failed to start; serving without it (isolated)');
      }
    }
    routes = applyRoutes();
    await asyncHost.attach(platform);
    const addr = await listening(gateway.listen(o.port, o.host ?? '127.0.0.1'), 'gateway', o.port, '--port');
    api = await listening(
      startApi(platform, {
        port: o.apiPort,
        gateway,
        token: token.token,
        metrics: async () =>
          (await gateway.metricsText()) +
          asyncHost.metricsText() +
          (telemetry ? await telemetry.metricsText() : ''),
        ...(addresses ? { addresses } : {}),
        ...(o.limits?.api ? { limits: o.limits.api } : {}),
        ...(o.site ? { site: o.site } : {}),
        builds: new BuildManager({
          dataDir: o.dataDir,
          events: platform.events,
          functions: () => platform.definitions(),
        }),
      }),
      'API',
      o.apiPort,
      '--api-port',
    );
    const shown = addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address;
    const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${addr.port}`;
    for (const r of routes) {
      logger.info(
        {
          function: r.upstream.name,
          url: `${url}${r.pathPrefixes?.[0] ?? '/'}`,
          paths: r.pathPrefixes,
          ...(r.hosts?.length ? { hosts: r.hosts } : {}),
        },
        'serving',
      );
    }
    // Printed once per start, like a notebook server's token; clients on this machine read the file.
    logger.info({ url: api.url, token: token.token, tokenFile: token.file }, 'platform API');
    logger.info(
      { url: asyncHost.url, port: asyncHost.port, token: 'dapr-api-token: the platform API token' },
      'Dapr publish/bindings API (DAPR_HTTP_PORT of async functions)',
    );
    if (telemetry?.logDir)
      logger.info({ dir: telemetry.logDir }, 'function logs and gateway metrics collected');
    for (const def of platform.definitions()) {
      for (const ip of addressOf(def)) {
        const host = ip.includes(':') ? `[${ip}]` : ip;
        logger.info(
          { function: def.name, url: `http://${host}:${addr.port}/` },
          'serving on its own address',
        );
      }
    }
    warnUnreachable(logger, o.host, addresses, platform);
    // Namespaces of registered functions, so an unregistered one's address can be released.
    const namespaces = new Map(platform.definitions().map((d) => [d.name, d.namespace]));
    const unsubscribe = platform.events.subscribe((e) => {
      if (e.type === 'function.registered') {
        for (const d of platform.definitions()) namespaces.set(d.name, d.namespace);
        // A new address arrives as a change event, which re-applies the routes.
        void addresses?.sync();
        applyRoutes();
      } else if (e.type === 'function.unregistered' && e.function) {
        const namespace = namespaces.get(e.function);
        namespaces.delete(e.function);
        if (addresses && namespace) {
          try {
            addresses.release({ name: e.function, namespace });
          } catch (err) {
            logger.warn({ err, function: e.function }, 'could not release the function address');
          }
        }
        applyRoutes();
      }
    });
    const unwatch = o.watch ? watchSpecs(platform) : () => undefined;
    const started = api;
    return {
      platform,
      gateway,
      api: started,
      ...(telemetry ? { telemetry } : {}),
      ...(addresses ? { addresses } : {}),
      async: asyncHost,
      url,
      async close() {
        unsubscribe();
        unwatch();
        for (const c of cleanups) c();
        await gateway.close();
        await started.close();
        // Deliveries stop first: what is in flight goes back to the broker, not to a draining instance.
        await asyncHost.close();
        // Instances drain first so their last lines reach the collector.
        await platform.close();
        await telemetry?.close();
        await addresses?.close();
      },
    };
  } catch (err) {
    for (const c of cleanups) c();
    await gateway.close().catch(() => undefined);
    await api?.close();
    await asyncHost.close();
    await platform.close();
    await telemetry?.close().catch(() => undefined);
    await addresses?.close().catch(() => undefined);
    throw err;
  }
}

/** Addresses the gateway's listener cannot receive on: said once at start, with the fix. */
function warnUnreachable(
  logger: Logger,
  host: string | undefined,
  addresses: FunctionAddresses | undefined,
  platform: Platform,
): void {
  if (!addresses) return;
  const listen = host ?? '127.0.0.1';
  for (const def of platform.definitions()) {
    for (const ip of addresses.of(def)?.addresses ?? []) {
      const v6 = ip.includes(':');
      const ok = listen === '::' || (listen === '0.0.0.0' && !v6) || listen === ip;
      if (!ok) {
        logger.warn(
          { function: def.name, address: ip, host: listen },
          `the gateway listens on ${listen}, so ${ip} does not reach it; use --host ${v6 ? '::' : '0.0.0.0'}`,
        );
      }
    }
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
