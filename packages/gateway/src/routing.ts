import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@sprout/observe';
import type { FunctionUpstream, InstanceEndpoint } from './upstream.js';
import type { GatewayContext } from './context.js';
import { GatewayError } from './errors.js';
import { startExchange } from './forwarding.js';
import { FunctionSlot, type CompiledRoute, type FunctionStatus } from './function-slot.js';
import { sendGatewayError, stripPrefix } from './http-util.js';
import type { GatewayMetrics } from './metrics.js';
import { resolveRouteOptions, type GatewayRoute, type RouteOptions } from './options.js';
import { RouteTable } from './route-table.js';

/** The routing table and one `FunctionSlot` per function (upstream) behind it, replaced whole by `setRoutes`. */
export class RouteSet {
  table = new RouteTable<CompiledRoute>([]);
  slots = new Map<FunctionUpstream, FunctionSlot>();
  /** Each function's first route, by function name (for `dispatch`). */
  byName = new Map<string, CompiledRoute>();

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Compiles `routes` and swaps them in at once. A function (the same upstream object) kept across calls keeps its slot
   * (scaler, held requests); held requests of a removed one get 404. Nothing changes when a route
   * is invalid.
   */
  replace(routes: readonly GatewayRoute[]): void {
    const next = new Map<FunctionUpstream, FunctionSlot>();
    const compiled = routes.map((r, i) => {
      if (!r || typeof r.upstream?.instances !== 'function' || typeof r.upstream.name !== 'string') {
        throw new GatewayError(
          'SPROUT_ERR_GATEWAY_INVALID_ROUTE',
          `routes[${i}].upstream is not a FunctionUpstream`,
          {
            field: `routes[${i}].upstream`,
          },
        );
      }
      const opts = resolveRouteOptions(r.options, `routes[${i}].options`);
      let slot = next.get(r.upstream);
      if (!slot) {
        slot = this.slots.get(r.upstream);
        if (slot) slot.setPolicy(r.scaling, `routes[${i}].scaling`);
        else slot = new FunctionSlot(r.upstream, r.scaling, this.metrics, this.log, `routes[${i}].scaling`);
        next.set(r.upstream, slot);
      }
      return {
        match: { hosts: r.hosts, pathPrefixes: r.pathPrefixes, headers: r.headers },
        value: { slot, opts },
      };
    });
    const byName = new Map<string, CompiledRoute>();
    for (const { value } of compiled) if (!byName.has(value.slot.name)) byName.set(value.slot.name, value);
    let table: RouteTable<CompiledRoute>;
    try {
      table = new RouteTable(compiled);
    } catch (err) {
      for (const [b, slot] of next) if (!this.slots.has(b)) slot.close();
      throw err;
    }
    const removed = [...this.slots].filter(([b]) => !next.has(b)).map(([, slot]) => slot);
    this.slots = next;
    this.table = table;
    this.byName = byName;
    for (const slot of removed) {
      slot.failAll(
        404,
        'SPROUT_ERR_GATEWAY_NO_ROUTE',
        `function ${slot.name} was removed while the request was held`,
      );
      slot.close();
    }
    const now = performance.now();
    for (const slot of next.values()) if (slot.requested === -1) slot.tick(now, 'route registered');
    this.log.info({ routes: routes.length, functions: next.size }, 'routes set');
  }

  /** Every ready instance of every function (to close the connection pools of the others). */
  liveEndpoints(): InstanceEndpoint[] {
    const out: InstanceEndpoint[] = [];
    for (const slot of this.slots.values()) out.push(...slot.upstream.instances());
    return out;
  }

  status(): FunctionStatus[] {
    return [...this.slots.values()].map((slot) => slot.status());
  }
}

/** The gateway listener's request handler: finds the route by host, path and headers. */
export function handleRequest(gw: GatewayContext, req: IncomingMessage, res: ServerResponse): void {
  if (gw.closing) {
    sendGatewayError(res, 503, 'SPROUT_ERR_GATEWAY_CLOSING', 'the gateway is shutting down', {
      connection: 'close',
    });
    return;
  }
  const url = req.url ?? '/';
  const hit = gw.routes.table.lookup(req.headers.host, url, (n) => req.headers[n]);
  if (!hit) {
    gw.metrics.unrouted.inc();
    sendGatewayError(
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

/** How `dispatch` answers differently from the function's route. */
export interface DispatchOptions {
  /** Overrides the route's `coldStartHeader` option (e.g. `'cold'`: the header only on cold starts). */
  coldStartHeader?: RouteOptions['coldStartHeader'];
}

/**
 * A request for the function named `name` from a server that embeds the gateway (the platform
 * API's invoke): handled as the function's first route would handle it — counted by its scaler,
 * held while cold, balanced, retried — and sent to the instance as `path`.
 */
export function dispatchTo(
  gw: GatewayContext,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  options?: DispatchOptions,
): void {
  if (gw.closing) {
    sendGatewayError(res, 503, 'SPROUT_ERR_GATEWAY_CLOSING', 'the gateway is shutting down');
    return;
  }
  const route = gw.routes.byName.get(name);
  if (!route) {
    sendGatewayError(
      res,
      404,
      'SPROUT_ERR_GATEWAY_NO_ROUTE',
      `function ${name} has no route in the gateway`,
      {},
      { function: name },
    );
    return;
  }
  const mode = options?.coldStartHeader;
  const target =
    mode === undefined || mode === route.opts.coldStartHeader
      ? route
      : { slot: route.slot, opts: { ...route.opts, coldStartHeader: mode } };
  startExchange(gw, req, res, target, path);
}
