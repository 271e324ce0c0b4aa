import {
  Agent,
  type AgentOptions,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerClientErrors, applyServerLimits, refuseHostless, type ServerLimits } from '@sprout/http';
import type { Logger } from '@sprout/observe';
import { createMetrics, type Registry } from '@sprout/observe/metrics';
import { createAdminServer } from './admin.js';
import type { GatewayContext } from './context.js';
import { GatewayError } from './errors.js';
import type { FunctionStatus } from './function-slot.js';
import { createGatewayMetrics } from './metrics.js';
import type { GatewayRoute } from './options.js';
import { PoolSet } from './pools.js';
import { UpstreamConns } from './forward/upstream-conns.js';
import { dispatchTo, handleRequest, RouteSet, type DispatchOptions } from './routing.js';
import { startScaling } from './scaling.js';
import { proxyUpgrade } from './upgrade.js';
import { RawListener } from './listener/raw-listener.js';

export type { FunctionStatus } from './function-slot.js';
export type { DispatchOptions } from './routing.js';

/** Options of `createGateway`. */
export interface GatewayOptions {
  logger: Logger;
  /** Registry the gateway's metrics go to (a new one when absent). */
  metrics?: Registry;
  /** How often every function's scaler decides, ms (default 500). */
  scaleIntervalMs?: number;
  /** How long `close()` waits for requests in flight before cutting connections, ms (default 10 000). */
  drainTimeoutMs?: number;
  /** Name of the response header that marks a cold start (default `x-sprout-cold-start`). */
  coldStartHeader?: string;
  /** The listener's connection cap and header/request/keep-alive timeouts (`@sprout/http` defaults). */
  limits?: ServerLimits;
  /**
   * Connections to one instance at most, per kind of request (bodyless ones and ones with a body
   * each have a pool); requests beyond wait in the gateway for a free connection (default 128).
   */
  maxConnectionsPerInstance?: number;
  /**
   * How requests without a body reach instances: `'raw'` (default) over the gateway's own pooled
   * HTTP/1.1 connections (src/forward/: its own response parser, the head written in one go, no
   * client library's objects per request), `'undici'` through undici's pool (the earlier path).
   */
  forwarding?: 'undici' | 'raw';
  /**
   * How the traffic listener reads requests: `'raw'` (default) parses simple requests itself
   * (src/listener/: bodyless HTTP/1.1 requests answered without node:http's per-request objects)
   * and hands every other connection to node:http; `'node'` leaves every request to node:http.
   */
  listener?: 'raw' | 'node';
}

/** The gateway: the interceptor (routing, holding, proxying) and the scaler. */
export interface Gateway {
  /** Starts serving traffic; resolves with the bound address. */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Serves `GET /metrics` (Prometheus text) and `GET /healthz` on a separate admin listener. */
  listenAdmin(port: number, host?: string): Promise<AddressInfo>;
  /** Replaces the routing table; functions kept across calls keep their scaler state. */
  setRoutes(routes: readonly GatewayRoute[]): void;
  /**
   * Handles a request received elsewhere (the platform API's invoke) as the named function's route
   * would: counted by its scaler, held while cold, balanced and retried, sent to the instance as
   * `path`. A function the routes do not name gets 404 `SPROUT_ERR_GATEWAY_NO_ROUTE`.
   */
  dispatch(
    functionName: string,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    options?: DispatchOptions,
  ): void;
  /** Prometheus text of the gateway's registry. */
  metricsText(): Promise<string>;
  status(): FunctionStatus[];
  /** Stops accepting, fails held requests with 503, waits for requests in flight, then closes. */
  close(): Promise<void>;
  readonly metrics: Registry;
}

/**
 * Creates a gateway. Give it routes with `setRoutes`, then `listen`.
 *
 * @example
 * const gw = createGateway({ logger: createLogger({ name: 'gateway' }) });
 * gw.setRoutes([{ upstream, scaling: { minReplicas: 0, maxReplicas: 3 }, pathPrefixes: ['/hello'] }]);
 * await gw.listen(8080, '127.0.0.1');
 */
export function createGateway(options: GatewayOptions): Gateway {
  const log = options.logger;
  const scaleIntervalMs = options.scaleIntervalMs ?? 500;
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  if (!(scaleIntervalMs > 0)) {
    throw new GatewayError('SPROUT_ERR_GATEWAY_INVALID_OPTION', 'scaleIntervalMs must be > 0', {
      field: 'scaleIntervalMs',
    });
  }
  if (!(drainTimeoutMs >= 0)) {
    throw new GatewayError('SPROUT_ERR_GATEWAY_INVALID_OPTION', 'drainTimeoutMs must be ≥ 0', {
      field: 'drainTimeoutMs',
    });
  }
  const perInstance = options.maxConnectionsPerInstance ?? 128;
  if (!Number.isSafeInteger(perInstance) || perInstance < 1) {
    throw new GatewayError('SPROUT_ERR_GATEWAY_INVALID_OPTION', 'maxConnectionsPerInstance must be ≥ 1', {
      field: 'maxConnectionsPerInstance',
    });
  }
  const forwarding = options.forwarding ?? 'raw';
  if (forwarding !== 'undici' && forwarding !== 'raw') {
    throw new GatewayError('SPROUT_ERR_GATEWAY_INVALID_OPTION', "forwarding must be 'undici' or 'raw'", {
      field: 'forwarding',
    });
  }
  const listener = options.listener ?? 'raw';
  if (listener !== 'raw' && listener !== 'node') {
    throw new GatewayError('SPROUT_ERR_GATEWAY_INVALID_OPTION', "listener must be 'raw' or 'node'", {
      field: 'listener',
    });
  }
  const registry = options.metrics ?? createMetrics();
  // The gauges read the functions of whatever table is current when scraped.
  const metrics = createGatewayMetrics(registry, () => routes.slots.values());
  const routes = new RouteSet(metrics, log);
  const coldHeader = (options.coldStartHeader ?? 'x-sprout-cold-start').toLowerCase();
  const gw: GatewayContext = {
    log,
    coldHeader,
    coldMarks: { cold: [coldHeader, 'true'], warm: [coldHeader, 'false'] },
    metrics,
    pools: new PoolSet(perInstance),
    rawForwarding: forwarding === 'raw',
    conns: new UpstreamConns(perInstance),
    agent: new Agent({
      keepAlive: true,
      // Per instance address: requests beyond wait in the agent's queue.
      maxSockets: perInstance,
      maxFreeSockets: 1024,
      scheduling: 'lifo',
      // Small request heads must not wait for Nagle's algorithm.
      noDelay: true,
    } as AgentOptions),
    routes,
    upgraded: new Set(),
    closing: false,
  };
  // The raw listener hands a request without Host (not simple) to this server: refused coded here.
  const server: Server = createServer((req, res) => {
    if (!refuseHostless(req, res)) handleRequest(gw, req, res);
  });
  let limits: Required<ServerLimits>;
  try {
    limits = applyServerLimits(server, options.limits);
  } catch (err) {
    throw new GatewayError('SPROUT_ERR_GATEWAY_INVALID_OPTION', `limits.${(err as Error).message}`, {
      field: 'limits',
    });
  }
  server.on('upgrade', (req, socket, head) => proxyUpgrade(gw, req, socket, head));
  answerClientErrors(server);
  // after the limits: the raw listener takes over the connection listeners they installed
  const raw =
    listener === 'raw'
      ? new RawListener(server, (req, res) => handleRequest(gw, req, res), limits)
      : undefined;
  let admin: Server | undefined;
  const stopScaling = startScaling(gw, scaleIntervalMs);

  async function close(): Promise<void> {
    if (gw.closing) return;
    gw.closing = true;
    stopScaling();
    for (const slot of routes.slots.values())
      slot.failAll(503, 'SPROUT_ERR_GATEWAY_CLOSING', 'the gateway is shutting down');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const deadline = performance.now() + drainTimeoutMs;
    const busy = () => {
      let n = 0;
      for (const slot of routes.slots.values()) n += slot.inflight;
      return n - gw.upgraded.size > 0;
    };
    raw?.closeIdle();
    while (busy() && performance.now() < deadline) {
      server.closeIdleConnections();
      raw?.closeIdle();
      await new Promise((r) => setTimeout(r, 20));
    }
    server.closeAllConnections();
    raw?.closeAll();
    for (const s of gw.upgraded) s.destroy();
    await closed;
    if (admin) await new Promise<void>((resolve) => admin!.close(() => resolve()));
    gw.agent.destroy();
    await gw.pools.close();
    gw.conns.close();
    for (const slot of routes.slots.values()) slot.close();
    log.info('gateway closed');
  }

  return {
    metrics: registry,
    listen: (port, host = '127.0.0.1') => listenOn(server, port, host),
    listenAdmin(port, host = '127.0.0.1') {
      admin = createAdminServer(registry, log, {
        closing: () => gw.closing,
        functions: () => routes.status(),
      });
      return listenOn(admin, port, host);
    },
    setRoutes(list) {
      if (!gw.closing) routes.replace(list);
    },
    dispatch: (name, req, res, path, opts) => dispatchTo(gw, name, req, res, path, opts),
    metricsText: () => registry.metrics(),
    status: () => routes.status(),
    close,
  };
}

async function listenOn(srv: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => {
      srv.off('error', reject);
      resolve();
    });
  });
  return srv.address() as AddressInfo;
}
