import {
  Agent,
  type AgentOptions,
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '@sprout/observe';
import { createMetrics, METRICS_CONTENT_TYPE, type Registry } from '@sprout/observe/metrics';
import type { Backend, InstanceEndpoint } from './backend.js';
import { GatewayError, type GatewayErrorCode } from './errors.js';
import { FunctionState, type CompiledRoute } from './function-state.js';
import { proxyUpgrade } from './upgrade.js';
import {
  bodyless,
  forwardHeaders,
  headerList,
  responseHeaders,
  sendError,
  stripPrefix,
} from './http-util.js';
import { PoolSet } from './pools.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import { resolveRouteOptions, type GatewayRoute } from './options.js';
import { RouteTable } from './route-table.js';

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
}

/** What the gateway knows about one function right now (for the platform's API). */
export interface FunctionStatus {
  name: string;
  pending: number;
  concurrency: number;
  rate: number;
  desiredReplicas: number;
  readyInstances: number;
  /** The last failure the gateway saw for this function (readiness timeout, instance failure). */
  lastError: { code: GatewayErrorCode; message: string; at: string } | undefined;
}

/** The gateway: the interceptor (routing, holding, proxying) and the scaler. */
export interface Gateway {
  /** Starts serving traffic; resolves with the bound address. */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Serves `GET /metrics` (Prometheus text) and `GET /healthz` on a separate admin listener. */
  listenAdmin(port: number, host?: string): Promise<AddressInfo>;
  /** Replaces the routing table; functions kept across calls keep their scaler state. */
  setRoutes(routes: readonly GatewayRoute[]): void;
  /** Prometheus text of the gateway's registry. */
  metricsText(): Promise<string>;
  status(): FunctionStatus[];
  /** Stops accepting, fails held requests with 503, waits for requests in flight, then closes. */
  close(): Promise<void>;
  readonly metrics: Registry;
}

/** Per-request state across holding, forwarding and retries. */
interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  route: CompiledRoute;
  path: string;
  headers: string[] | undefined;
  cold: boolean;
  attempts: number;
  exclude: Set<string> | undefined;
  /** Set while the request is held: drops it from the queue. */
  cancelWait: (() => void) | undefined;
  /** What to abort when the client goes away. */
  upstream: { destroy(): void } | undefined;
}

/** Tries per request when instances refuse connections (the request never reached them). */
const MAX_ATTEMPTS = 3;

/**
 * Creates a gateway. Give it routes with `setRoutes`, then `listen`.
 *
 * @example
 * const gw = createGateway({ logger: createLogger({ name: 'gateway' }) });
 * gw.setRoutes([{ backend, scaling: { minReplicas: 0, maxReplicas: 3 }, pathPrefixes: ['/hello'] }]);
 * await gw.listen(8080, '127.0.0.1');
 */
export function createGateway(options: GatewayOptions): Gateway {
  const log = options.logger;
  const scaleIntervalMs = options.scaleIntervalMs ?? 500;
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const coldHeader = (options.coldStartHeader ?? 'x-sprout-cold-start').toLowerCase();
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
  const registry = options.metrics ?? createMetrics();
  let fns = new Map<Backend, FunctionState>();
  const metrics: GatewayMetrics = createGatewayMetrics(registry, () => fns.values());
  let table = new RouteTable<CompiledRoute>([]);
  let closing = false;
  const agent = new Agent({
    keepAlive: true,
    maxSockets: Infinity,
    maxFreeSockets: 1024,
    scheduling: 'lifo',
    // Small request heads must not wait for Nagle's algorithm.
    noDelay: true,
  } as AgentOptions);
  const pools = new PoolSet();
  const upgraded = new Set<Duplex>();
  const server: Server = createServer({ keepAliveTimeout: 65_000 }, handle);
  server.on('upgrade', handleUpgrade);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  let admin: Server | undefined;

  let ticks = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    if (++ticks % 20 === 0) pools.prune(liveEndpoints());
    for (const fn of fns.values()) {
      try {
        fn.tick(now);
      } catch (err) {
        log.error({ err, function: fn.name }, 'scaling decision failed');
      }
    }
  }, scaleIntervalMs);
  ticker.unref();

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (closing) {
      sendError(res, 503, 'SPROUT_ERR_GATEWAY_CLOSING', 'the gateway is shutting down', {
        connection: 'close',
      });
      return;
    }
    const url = req.url ?? '/';
    const hit = table.lookup(req.headers.host, url, (n) => req.headers[n]);
    if (!hit) {
      metrics.unrouted.inc();
      sendError(
        res,
        404,
        'SPROUT_ERR_GATEWAY_NO_ROUTE',
        'no route matches this host and path',
        {},
        {
          host: req.headers.host ?? null,
          path: url.split('?')[0],
        },
      );
      return;
    }
    const route = hit.value;
    const fn = route.fn;
    fn.begin(performance.now());
    const ctx: Ctx = {
      req,
      res,
      route,
      path: route.opts.stripPrefix ? stripPrefix(url, hit.prefix) : url,
      headers: undefined,
      cold: false,
      attempts: 0,
      exclude: undefined,
      cancelWait: undefined,
      upstream: undefined,
    };
    res.once('close', () => {
      fn.end(res.headersSent ? res.statusCode : 0);
      ctx.cancelWait?.();
      if (!res.writableFinished && ctx.upstream) ctx.upstream.destroy();
    });
    dispatch(ctx);
  }

  function dispatch(ctx: Ctx): void {
    const fn = ctx.route.fn;
    const inst = fn.pick(ctx.exclude);
    if (inst) forward(ctx, inst);
    else holdRequest(ctx);
  }

  function holdRequest(ctx: Ctx): void {
    const { fn, opts } = ctx.route;
    const now = performance.now();
    if (opts.placeholder) {
      fn.tick(now, 'request while no instance is ready');
      const ph = opts.placeholder;
      const body = ph.body ?? '';
      ctx.res.writeHead(ph.status ?? 503, {
        'content-length': Buffer.byteLength(body),
        'retry-after': '1',
        ...(opts.coldStartHeader ? { [coldHeader]: 'true' } : {}),
        ...ph.headers,
      });
      ctx.res.end(body);
      return;
    }
    if (fn.queue.length >= opts.maxPendingRequests) {
      fn.reject('queue_full');
      sendError(
        ctx.res,
        503,
        'SPROUT_ERR_GATEWAY_QUEUE_FULL',
        `function ${fn.name} has no ready instance and ${fn.queue.length} requests are already held`,
        { 'retry-after': '1' },
        { function: fn.name },
      );
      return;
    }
    ctx.cold = true;
    ctx.cancelWait = fn.wait(
      opts.readinessTimeoutMs,
      {
        ready(inst) {
          ctx.cancelWait = undefined;
          forward(ctx, inst);
        },
        timeout() {
          ctx.cancelWait = undefined;
          if (opts.fallback) forward(ctx, { id: 'fallback', ...opts.fallback });
          else {
            sendError(
              ctx.res,
              504,
              'SPROUT_ERR_GATEWAY_READINESS_TIMEOUT',
              `function ${fn.name} did not become ready within ${opts.readinessTimeoutMs} ms`,
              {},
              { function: fn.name },
            );
          }
        },
        fail(status, code, message) {
          ctx.cancelWait = undefined;
          sendError(ctx.res, status, code, message, { connection: 'close' });
        },
      },
      ctx.exclude,
      now,
    );
  }

  function forward(ctx: Ctx, inst: InstanceEndpoint): void {
    ctx.attempts++;
    const release = ctx.route.fn.acquire(inst.id);
    let released = false;
    const done = () => {
      if (!released) {
        released = true;
        release();
      }
    };
    if (bodyless(ctx.req)) {
      try {
        forwardBodyless(ctx, inst, done);
        return;
      } catch (err) {
        // undici refuses a few unusual request headers up front; node:http takes them.
        log.debug({ err }, 'undici refused the request; using node:http');
      }
    }
    forwardStreaming(ctx, inst, done);
  }

  /** Requests without a body go through undici's dispatcher: the cheapest path per request. */
  function forwardBodyless(ctx: Ctx, inst: InstanceEndpoint, done: () => void): void {
    const { req, res, route } = ctx;
    const { opts } = route;
    let responded = false;
    // Our own timer rather than undici's `headersTimeout`, which fires up to a second late.
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    pools.get(inst).dispatch(
      {
        path: ctx.path,
        method: req.method ?? 'GET',
        headers: (ctx.headers ??= forwardHeaders(req, false)),
        body: null,
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      {
        onRequestStart(controller) {
          ctx.upstream = { destroy: () => controller.abort(new Error('client closed the connection')) };
          if (res.destroyed) controller.abort(new Error('client closed the connection'));
          clearTimeout(timer);
          timer = setTimeout(() => {
            timedOut = true;
            controller.abort(new Error('no response headers in time'));
          }, opts.responseHeaderTimeoutMs);
        },
        onResponseStart(controller, status, headers, statusMessage) {
          clearTimeout(timer);
          responded = true;
          if (res.destroyed) return;
          const list = headerList(
            headers,
            opts.coldStartHeader ? [coldHeader, ctx.cold ? 'true' : 'false'] : undefined,
          );
          res.writeHead(status, statusMessage ?? '', list);
          if (headers['content-length'] === undefined) res.flushHeaders();
        },
        onResponseData(controller, chunk) {
          if (!res.write(chunk)) {
            controller.pause();
            res.once('drain', () => controller.resume());
          }
        },
        onResponseEnd() {
          done();
          res.end();
        },
        onResponseError(_controller, err: Error & { code?: string }) {
          clearTimeout(timer);
          done();
          if (responded) failedMidResponse(ctx, inst, err);
          else
            upstreamFailed(
              ctx,
              inst,
              err,
              timedOut || err.code === 'UND_ERR_HEADERS_TIMEOUT',
              err.code === 'ECONNREFUSED',
            );
        },
      },
    );
  }

  /** Requests with a body: node:http, the body streamed once the connection is up. */
  function forwardStreaming(ctx: Ctx, inst: InstanceEndpoint, done: () => void): void {
    const { req, res, route } = ctx;
    const { opts } = route;
    const up = request({
      host: inst.host,
      port: inst.port,
      method: req.method,
      path: ctx.path,
      headers: (ctx.headers ??= forwardHeaders(req, false)),
      agent,
    });
    ctx.upstream = up;
    // A body is streamed only once the connection is up, so a refused connection leaves it unread
    // and the request can go to another instance.
    let bodySent = false;
    let responded = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      up.destroy();
    }, opts.responseHeaderTimeoutMs);
    up.on('response', (ur) => {
      clearTimeout(timer);
      responded = true;
      if (res.destroyed) {
        ur.destroy();
        done();
        return;
      }
      const headers = responseHeaders(
        ur.rawHeaders,
        opts.coldStartHeader ? [coldHeader, ctx.cold ? 'true' : 'false'] : undefined,
      );
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, headers);
      if (ur.headers['content-length'] === undefined) res.flushHeaders();
      ur.on('error', (err) => failedMidResponse(ctx, inst, err));
      ur.on('aborted', () => failedMidResponse(ctx, inst, new Error('response aborted')));
      ur.on('close', done);
      ur.pipe(res);
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done();
      if (responded) failedMidResponse(ctx, inst, err);
      else upstreamFailed(ctx, inst, err, timedOut, err.code === 'ECONNREFUSED' && !bodySent);
    });
    up.once('socket', (socket) => {
      const send = () => {
        bodySent = true;
        req.pipe(up);
      };
      if (socket.connecting) socket.once('connect', send);
      else send();
    });
  }

  /** The instance failed after sending headers: the status is gone, so the client's connection is cut. */
  function failedMidResponse(ctx: Ctx, inst: InstanceEndpoint, err: Error & { code?: string }): void {
    if (ctx.res.destroyed) return; // the client left first
    const fn = ctx.route.fn;
    fn.reject('upstream_failed');
    fn.noteError(
      'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED',
      `instance ${inst.id} failed in the middle of a response (${err.code ?? err.message})`,
    );
    log.warn({ function: fn.name, instance: inst.id, err: err.message }, 'instance failed mid-response');
    ctx.res.destroy();
  }

  /** The instance failed before response headers: retry, 504 or 502. */
  function upstreamFailed(
    ctx: Ctx,
    inst: InstanceEndpoint,
    err: Error & { code?: string },
    timedOut: boolean,
    neverReached: boolean,
  ): void {
    const { res, route } = ctx;
    const { fn, opts } = route;
    if (res.destroyed || res.writableEnded) return;
    if (timedOut) {
      fn.reject('response_header_timeout');
      sendError(
        res,
        504,
        'SPROUT_ERR_GATEWAY_RESPONSE_HEADER_TIMEOUT',
        `function ${fn.name} sent no response headers within ${opts.responseHeaderTimeoutMs} ms`,
        {},
        { function: fn.name },
      );
      return;
    }
    if (neverReached && inst.id !== 'fallback' && ctx.attempts < MAX_ATTEMPTS) {
      (ctx.exclude ??= new Set()).add(inst.id);
      log.warn({ function: fn.name, instance: inst.id }, 'instance refused the connection; trying another');
      dispatch(ctx);
      return;
    }
    fn.reject('upstream_failed');
    fn.noteError(
      'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED',
      `instance ${inst.id} failed before answering (${err.code ?? err.message})`,
    );
    log.warn({ function: fn.name, instance: inst.id, err: err.message }, 'instance failed before answering');
    sendError(
      res,
      502,
      'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED',
      `function ${fn.name} instance ${inst.id} failed before answering (${err.code ?? err.message})`,
      {},
      { function: fn.name },
    );
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    proxyUpgrade({ req, socket, head, closing, table, metrics, coldHeader, upgraded });
  }

  function setRoutes(routes: readonly GatewayRoute[]): void {
    if (closing) return;
    const next = new Map<Backend, FunctionState>();
    const compiled = routes.map((r, i) => {
      if (!r || typeof r.backend?.instances !== 'function' || typeof r.backend.name !== 'string') {
        throw new GatewayError('SPROUT_ERR_GATEWAY_INVALID_ROUTE', `routes[${i}].backend is not a Backend`, {
          field: `routes[${i}].backend`,
        });
      }
      const opts = resolveRouteOptions(r.options, `routes[${i}].options`);
      let fn = next.get(r.backend);
      if (!fn) {
        fn = fns.get(r.backend);
        if (fn) fn.setPolicy(r.scaling, `routes[${i}].scaling`);
        else fn = new FunctionState(r.backend, r.scaling, metrics, log, `routes[${i}].scaling`);
        next.set(r.backend, fn);
      }
      return {
        match: { hosts: r.hosts, pathPrefixes: r.pathPrefixes, headers: r.headers },
        value: { fn, opts },
      };
    });
    let nextTable: RouteTable<CompiledRoute>;
    try {
      nextTable = new RouteTable(compiled);
    } catch (err) {
      for (const [b, fn] of next) if (!fns.has(b)) fn.close();
      throw err;
    }
    const removed = [...fns].filter(([b]) => !next.has(b)).map(([, fn]) => fn);
    fns = next;
    table = nextTable;
    for (const fn of removed) {
      fn.failAll(
        404,
        'SPROUT_ERR_GATEWAY_NO_ROUTE',
        `function ${fn.name} was removed while the request was held`,
      );
      fn.close();
    }
    const now = performance.now();
    for (const fn of next.values()) if (fn.requested === -1) fn.tick(now, 'route registered');
    log.info({ routes: routes.length, functions: next.size }, 'routes set');
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

  async function close(): Promise<void> {
    if (closing) return;
    closing = true;
    clearInterval(ticker);
    for (const fn of fns.values())
      fn.failAll(503, 'SPROUT_ERR_GATEWAY_CLOSING', 'the gateway is shutting down');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const deadline = performance.now() + drainTimeoutMs;
    const busy = () => {
      let n = 0;
      for (const fn of fns.values()) n += fn.inflight;
      return n - upgraded.size > 0;
    };
    while (busy() && performance.now() < deadline) {
      server.closeIdleConnections();
      await new Promise((r) => setTimeout(r, 20));
    }
    server.closeAllConnections();
    for (const s of upgraded) s.destroy();
    await closed;
    if (admin) await new Promise<void>((resolve) => admin!.close(() => resolve()));
    agent.destroy();
    await pools.close();
    for (const fn of fns.values()) fn.close();
    log.info('gateway closed');
  }

  return {
    metrics: registry,
    listen: (port, host = '127.0.0.1') => listenOn(server, port, host),
    listenAdmin(port, host = '127.0.0.1') {
      admin = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        if (req.method === 'GET' && path === '/metrics') {
          registry.metrics().then(
            (text) => {
              res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
              res.end(text);
            },
            (err: unknown) => {
              log.error({ err }, 'metrics collection failed');
              res.writeHead(500).end();
            },
          );
        } else if (req.method === 'GET' && path === '/healthz') {
          res.writeHead(closing ? 503 : 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: closing ? 'closing' : 'ok', functions: statusList() }));
        } else {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        }
      });
      return listenOn(admin, port, host);
    },
    setRoutes,
    metricsText: () => registry.metrics(),
    status: statusList,
    close,
  };

  function liveEndpoints(): InstanceEndpoint[] {
    const out: InstanceEndpoint[] = [];
    for (const fn of fns.values()) out.push(...fn.backend.instances());
    return out;
  }

  function statusList(): FunctionStatus[] {
    return [...fns.values()].map((fn) => ({
      name: fn.name,
      pending: fn.pending(),
      concurrency: fn.concurrency(),
      rate: fn.rate(),
      desiredReplicas: fn.desiredReplicas(),
      readyInstances: fn.readyInstances(),
      lastError: fn.lastError,
    }));
  }
}
