import type { FunctionUpstream, ScalingPolicy } from './upstream.js';
import { GatewayError } from './errors.js';
import type { RouteMatch } from './route-table.js';

/** Per-route behaviour around cold starts and timeouts. */
export interface RouteOptions {
  /** How long a request is held waiting for a ready instance, ms (default 20 000). */
  readinessTimeoutMs?: number;
  /** How long to wait for response headers once the request is sent, ms (default 300 000, as KEDA). */
  responseHeaderTimeoutMs?: number;
  /** Requests held at most while no instance is ready; more get 503 (default 1 000). */
  maxPendingRequests?: number;
  /** Answered at once, instead of holding, while the function has no ready instance. */
  placeholder?: { status?: number; headers?: Record<string, string>; body?: string };
  /** Where held requests go when the readiness wait expires, instead of a 504 (KEDA's failover). */
  fallback?: { host: string; port: number };
  /** Removes the matched path prefix before forwarding (`/hello/x` → `/x`). Default false. */
  stripPrefix?: boolean;
  /**
   * Adds the cold-start header to responses: `true` (default) says `true` or `false` on every
   * response, `'cold'` only `true` on a request that waited for an instance, `false` never.
   */
  coldStartHeader?: boolean | 'cold';
}

/** One entry of the routing table given to `setRoutes`. */
export interface GatewayRoute extends RouteMatch {
  /** The function behind the route (routes sharing one upstream object share its scaler and queue). */
  upstream: FunctionUpstream;
  scaling: ScalingPolicy;
  options?: RouteOptions;
}

export type ResolvedRouteOptions = Required<Omit<RouteOptions, 'placeholder' | 'fallback'>> &
  Pick<RouteOptions, 'placeholder' | 'fallback'>;

export const ROUTE_DEFAULTS = {
  readinessTimeoutMs: 20_000,
  responseHeaderTimeoutMs: 300_000,
  maxPendingRequests: 1_000,
  stripPrefix: false,
  coldStartHeader: true,
} as const;

export function resolveRouteOptions(o: RouteOptions = {}, field: string): ResolvedRouteOptions {
  const r: ResolvedRouteOptions = { ...ROUTE_DEFAULTS, ...stripUndefined(o) };
  const bad = (name: string, what: string): never => {
    throw new GatewayError('SPROUT_ERR_GATEWAY_INVALID_ROUTE', `${field}.${name} ${what}`, {
      field: `${field}.${name}`,
    });
  };
  for (const k of ['readinessTimeoutMs', 'responseHeaderTimeoutMs'] as const) {
    if (!(r[k] > 0) || !Number.isFinite(r[k])) bad(k, 'must be a number of milliseconds > 0');
  }
  if (!Number.isInteger(r.maxPendingRequests) || r.maxPendingRequests < 0) {
    bad('maxPendingRequests', 'must be a whole number ≥ 0');
  }
  const ph = r.placeholder;
  if (
    ph &&
    ph.status !== undefined &&
    !(Number.isInteger(ph.status) && ph.status >= 200 && ph.status <= 599)
  ) {
    bad('placeholder.status', 'must be an HTTP status 200–599');
  }
  if (r.coldStartHeader !== true && r.coldStartHeader !== false && r.coldStartHeader !== 'cold') {
    bad('coldStartHeader', 'must be true, false or "cold"');
  }
  const fb = r.fallback;
  if (fb && (typeof fb.host !== 'string' || !Number.isInteger(fb.port) || fb.port < 1 || fb.port > 65535)) {
    bad('fallback', 'needs a host and a port 1–65535');
  }
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
