import type { FunctionUpstream, GatewayRoute } from '@sprout/gateway';
import type { ResolvedFunction } from '@sprout/spec';
import { PlatformError } from './errors.js';

/**
 * The routing table for a set of functions: each function's `triggers.http.route` rules, else the
 * path prefix `/<name>`, plus `/` when only one function is served. A function with load-balancer
 * addresses (EIP) also gets every path of requests sent to those addresses (matched on the Host
 * header, which is the address when a client dials it). A rule that claims the same hosts, prefix
 * and headers as an earlier function's is left out and reported in `conflicts`.
 */
export function routesFor(
  defs: ResolvedFunction[],
  upstream: (name: string) => FunctionUpstream,
  addressesOf: (def: ResolvedFunction) => readonly string[] = () => [],
): { routes: GatewayRoute[]; conflicts: PlatformError[] } {
  const all: GatewayRoute[] = [];
  for (const def of defs) {
    const s = def.scaling;
    const base = {
      upstream: upstream(def.name),
      scaling: {
        minReplicas: s.minReplicas,
        maxReplicas: s.maxReplicas,
        ...(s.metric !== 'requestRate' ? { targetConcurrency: s.targetConcurrency } : {}),
        ...(s.metric !== 'concurrency' ? { targetRate: s.targetRate } : {}),
        rateWindowMs: s.rateWindowMs,
        rateGranularityMs: s.rateGranularityMs,
        scaledownPeriodMs: s.scaledownPeriodMs,
      },
      options: {
        readinessTimeoutMs: def.readinessTimeoutMs,
        ...(def.responseHeaderTimeoutMs ? { responseHeaderTimeoutMs: def.responseHeaderTimeoutMs } : {}),
        ...(def.placeholder !== undefined ? { placeholder: { status: 503, body: def.placeholder } } : {}),
        ...(def.fallback ? { fallback: fallbackTarget(def.fallback) } : {}),
      },
    };
    if (def.routes.length) {
      for (const r of def.routes) {
        all.push({
          ...base,
          hosts: r.hosts,
          pathPrefixes: [r.pathPrefix],
          ...(r.headers ? { headers: r.headers } : {}),
        });
      }
    } else {
      const prefixes = [`/${def.name}`];
      if (defs.length === 1) prefixes.push('/');
      // Like `sprout run`, the function sees paths below its prefix: /hello/x arrives as /x.
      all.push({
        ...base,
        hosts: [],
        pathPrefixes: prefixes,
        options: { ...base.options, stripPrefix: true },
      });
    }
    const addresses = addressesOf(def);
    if (addresses.length) {
      all.push({
        ...base,
        hosts: addresses.map((ip) => (ip.includes(':') ? `[${ip}]` : ip)),
        pathPrefixes: ['/'],
      });
    }
  }
  const claimed = new Map<string, string>();
  const conflicts: PlatformError[] = [];
  const routes: GatewayRoute[] = [];
  for (const r of all) {
    const hosts = r.hosts ?? [];
    const prefixes = r.pathPrefixes ?? ['/'];
    const keys = prefixes.map((p) =>
      JSON.stringify([[...hosts].sort(), p, Object.entries(r.headers ?? {}).sort()]),
    );
    const owner = keys.map((k) => claimed.get(k)).find((o) => o !== undefined && o !== r.upstream.name);
    if (owner) {
      conflicts.push(
        new PlatformError(
          'SPROUT_ERR_PLATFORM_ROUTE_CONFLICT',
          `function "${r.upstream.name}": route ${hosts.join(',') || '*'}${prefixes.join(',')} is already served by "${owner}"`,
        ),
      );
      continue;
    }
    for (const k of keys) claimed.set(k, r.upstream.name);
    routes.push(r);
  }
  return { routes, conflicts };
}

function fallbackTarget(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
}
