import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@sprout/observe';
import type { Backend, InstanceEndpoint } from './backend.js';
import type { GatewayContext } from './context.js';
import { GatewayError } from './errors.js';
import { startExchange } from './forwarding.js';
import { FunctionState, type CompiledRoute, type FunctionStatus } from './function-state.js';
import { sendError, stripPrefix } from './http-util.js';
import type { GatewayMetrics } from './metrics.js';
import { resolveRouteOptions, type GatewayRoute } from './options.js';
import { RouteTable } from './route-table.js';

/** The routing table and one `FunctionState` per backend behind it, replaced whole by `setRoutes`. */
export class RouteSet {
  table = new RouteTable<CompiledRoute>([]);
  fns = new Map<Backend, FunctionState>();

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Compiles `routes` and swaps them in at once. A backend kept across calls keeps its state
   * (scaler, held requests); held requests of a removed one get 404. Nothing changes when a route
   * is invalid.
   */
  replace(routes: readonly GatewayRoute[]): void {
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
        fn = this.fns.get(r.backend);
        if (fn) fn.setPolicy(r.scaling, `routes[${i}].scaling`);
        else fn = new FunctionState(r.backend, r.scaling, this.metrics, this.log, `routes[${i}].scaling`);
        next.set(r.backend, fn);
      }
      return {
        match: { hosts: r.hosts, pathPrefixes: r.pathPrefixes, headers: r.headers },
        value: { fn, opts },
      };
    });
    let table: RouteTable<CompiledRoute>;
    try {
      table = new RouteTable(compiled);
    } catch (err) {
      for (const [b, fn] of next) if (!this.fns.has(b)) fn.close();
      throw err;
    }
    const removed = [...this.fns].filter(([b]) => !next.has(b)).map(([, fn]) => fn);
    this.fns = next;
    this.table = table;
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
    this.log.info({ routes: routes.length, functions: next.size }, 'routes set');
  }

  /** Every ready instance of every function (to close the connection pools of the others). */
  liveEndpoints(): InstanceEndpoint[] {
    const out: InstanceEndpoint[] = [];
    for (const fn of this.fns.values()) out.push(...fn.backend.instances());
    return out;
  }

  status(): FunctionStatus[] {
    return [...this.fns.values()].map((fn) => fn.status());
  }
}

/** The gateway listener's request handler: finds the route by host, path and headers. */
export function handleRequest(gw: GatewayContext, req: IncomingMessage, res: ServerResponse): void {
  if (gw.closing) {
    sendError(res, 503, 'SPROUT_ERR_GATEWAY_CLOSING', 'the gateway is shutting down', {
      connection: 'close',
    });
    return;
  }
  const url = req.url ?? '/';
  const hit = gw.routes.table.lookup(req.headers.host, url, (n) => req.headers[n]);
  if (!hit) {
    gw.metrics.unrouted.inc();
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
  startExchange(gw, req, res, route, route.opts.stripPrefix ? stripPrefix(url, hit.prefix) : url);
}
