import { GatewayError } from './errors.js';

/** What a route matches on. Every given criterion must hold. */
export interface RouteMatch {
  /**
   * Host names: exact (`api.example.com`), wildcard (`*.example.com`, any subdomain, not the apex)
   * or catch-all (`*`). Empty or absent means catch-all. Compared without port, case-insensitively.
   */
  hosts?: readonly string[];
  /** Path prefixes, matched on whole segments (`/a` matches `/a`, `/a/b`, not `/ab`). Default `['/']`. */
  pathPrefixes?: readonly string[];
  /** Headers that must be present with exactly these values (names case-insensitive). */
  headers?: Readonly<Record<string, string>>;
}

/** The result of a lookup: the route's value and the path prefix that matched. */
export interface RouteHit<T> {
  value: T;
  prefix: string;
}

interface Entry<T> {
  value: T;
  prefixes: string[];
  headers: [string, string][];
  order: number;
}

type HeaderGetter = (name: string) => string | string[] | undefined;

/**
 * An immutable routing table. Lookup order: exact host, then wildcard hosts (longest suffix first),
 * then catch-all; within that tier the longest matching path prefix wins, then the route with more
 * header conditions, then the one declared first.
 *
 * @example
 * const t = new RouteTable([{ match: { hosts: ['*.example.com'], pathPrefixes: ['/api'] }, value: 'api' }]);
 * t.lookup('a.example.com:8080', '/api/x?y=1', () => undefined)?.value; // 'api'
 */
export class RouteTable<T> {
  private readonly exact = new Map<string, Entry<T>[]>();
  private readonly wildcard: { suffix: string; entries: Entry<T>[] }[] = [];
  private readonly catchAll: Entry<T>[] = [];
  readonly size: number;

  constructor(routes: readonly { match: RouteMatch; value: T }[]) {
    const wild = new Map<string, Entry<T>[]>();
    routes.forEach(({ match, value }, order) => {
      const entry: Entry<T> = {
        value,
        prefixes: normalizePrefixes(match.pathPrefixes, order),
        headers: normalizeHeaders(match.headers, order),
        order,
      };
      const hosts = match.hosts ?? [];
      if (hosts.length === 0) this.catchAll.push(entry);
      for (const raw of hosts) {
        const host = normalizeHostPattern(raw, order);
        if (host === '*') this.catchAll.push(entry);
        else if (host.startsWith('*.')) push(wild, host.slice(1), entry);
        else push(this.exact, host, entry);
      }
    });
    for (const [suffix, entries] of wild) this.wildcard.push({ suffix, entries });
    this.wildcard.sort((a, b) => b.suffix.length - a.suffix.length);
    this.size = routes.length;
  }

  /** Finds the route for a request; `rawHost` may carry a port, `url` a query string. */
  lookup(rawHost: string | undefined, url: string, header: HeaderGetter): RouteHit<T> | undefined {
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    // a table of catch-all routes only (the common case) has no use for the host
    if (this.exact.size === 0 && this.wildcard.length === 0) return best(this.catchAll, path, header);
    const host = normalizeHost(rawHost ?? '');
    const exact = this.exact.get(host);
    if (exact) {
      const hit = best(exact, path, header);
      if (hit) return hit;
    }
    for (const w of this.wildcard) {
      if (host.length > w.suffix.length && host.endsWith(w.suffix)) {
        const hit = best(w.entries, path, header);
        if (hit) return hit;
      }
    }
    return best(this.catchAll, path, header);
  }
}

function push<T>(map: Map<string, Entry<T>[]>, key: string, entry: Entry<T>): void {
  const list = map.get(key);
  if (list) list.push(entry);
  else map.set(key, [entry]);
}

function best<T>(entries: Entry<T>[], path: string, header: HeaderGetter): RouteHit<T> | undefined {
  let found: Entry<T> | undefined;
  let foundPrefix = '';
  for (const e of entries) {
    const prefix = longestPrefix(e.prefixes, path);
    if (prefix === undefined || !headersMatch(e.headers, header)) continue;
    if (
      !found ||
      prefix.length > foundPrefix.length ||
      (prefix.length === foundPrefix.length &&
        (e.headers.length > found.headers.length ||
          (e.headers.length === found.headers.length && e.order < found.order)))
    ) {
      found = e;
      foundPrefix = prefix;
    }
  }
  return found ? { value: found.value, prefix: foundPrefix } : undefined;
}

function longestPrefix(prefixes: string[], path: string): string | undefined {
  let out: string | undefined;
  for (const p of prefixes) {
    if (out !== undefined && p.length <= out.length) continue;
    if (p === '/') out = p;
    else if (path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47)) out = p;
  }
  return out;
}

function headersMatch(wanted: [string, string][], header: HeaderGetter): boolean {
  for (const [name, value] of wanted) {
    const got = header(name);
    if (Array.isArray(got) ? !got.includes(value) : got !== value) return false;
  }
  return true;
}

/** Lower-cases a Host header and drops its port and a trailing dot. */
export function normalizeHost(raw: string): string {
  let host = raw.toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function normalizeHostPattern(raw: string, order: number): string {
  const host = normalizeHost(raw.trim());
  const bad =
    host === '' ||
    /[\s/?#@]/.test(host) ||
    (host.includes('*') &&
      host !== '*' &&
      !(host.startsWith('*.') && !host.slice(2).includes('*') && host.length > 2));
  if (bad) {
    throw new GatewayError(
      'SPROUT_ERR_GATEWAY_INVALID_ROUTE',
      `route ${order}: host "${raw}" is not an exact host, "*.domain" or "*"`,
      { field: `routes[${order}].hosts` },
    );
  }
  return host;
}

function normalizePrefixes(prefixes: readonly string[] | undefined, order: number): string[] {
  if (prefixes === undefined || prefixes.length === 0) return ['/'];
  return prefixes.map((p) => {
    if (typeof p !== 'string' || !p.startsWith('/') || /[?#\s]/.test(p)) {
      throw new GatewayError(
        'SPROUT_ERR_GATEWAY_INVALID_ROUTE',
        `route ${order}: path prefix "${String(p)}" must start with "/" and hold no query, fragment or space`,
        { field: `routes[${order}].pathPrefixes` },
      );
    }
    return p.length > 1 && p.endsWith('/') ? p.replace(/\/+$/, '') || '/' : p;
  });
}

function normalizeHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  order: number,
): [string, string][] {
  return Object.entries(headers ?? {}).map(([name, value]) => {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || typeof value !== 'string') {
      throw new GatewayError(
        'SPROUT_ERR_GATEWAY_INVALID_ROUTE',
        `route ${order}: header match "${name}" needs a valid header name and a string value`,
        { field: `routes[${order}].headers` },
      );
    }
    return [name.toLowerCase(), value];
  });
}
