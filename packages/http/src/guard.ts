import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hasBody } from './body.js';
import { HttpError } from './errors.js';
import { tokenMatches } from './token.js';

export interface RequestGuardOptions {
  /** When set, requests that ask for it must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Host names accepted besides `localhost` and IP literals: the listen address when it is a name, a proxy's name. */
  allowedHosts?: readonly string[];
}

export interface GuardRule {
  /** The request must carry the token (when the guard has one). */
  token?: boolean;
  /**
   * Media types a request body may have (`application/json`, ...); a body of another type, or of
   * none, is refused with 415. Unset: any body (function traffic passed on as it came).
   */
  bodyTypes?: readonly string[];
}

/**
 * The one request guard of Sprout's own APIs (platform API, Dapr state API): no CORS, so a browser
 * page from another origin cannot use them, and no DNS rebinding.
 *
 * - `Host` must be `localhost`, an IP literal or an allowed name: a page on `evil.example` that
 *   rebinds its name to 127.0.0.1 still sends `Host: evil.example` (403 `SPROUT_ERR_HTTP_HOST_NOT_ALLOWED`).
 * - A request from a browser page of another origin (an `Origin` that is not this host, or
 *   `Sec-Fetch-Site: cross-site | same-site`) is refused (403 `SPROUT_ERR_HTTP_CROSS_ORIGIN`).
 * - With a token, `Authorization: Bearer <token>`, compared in constant time (401 `SPROUT_ERR_HTTP_UNAUTHORIZED`).
 * - With `bodyTypes`, a body must have one of them: `text/plain` and form posts, which a page may send
 *   anywhere without asking, are refused (415 `SPROUT_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE`).
 *
 * @example
 * const guard = new RequestGuard({ token });
 * const refused = guard.check(req, { token: true, bodyTypes: ['application/json'] });
 * if (refused) return sendError(res, refused, { code: 'SPROUT_ERR_PLATFORM_INTERNAL' }, guard.headers(refused));
 */
export class RequestGuard {
  readonly #token: string | undefined;
  readonly #hosts: Set<string>;

  constructor(o: RequestGuardOptions = {}) {
    this.#token = o.token;
    this.#hosts = new Set(['localhost', ...(o.allowedHosts ?? []).map(normalHost)]);
  }

  /** Accepts `host` too (a server that learns its listen address later calls this on listen). */
  allowHost(host: string): void {
    if (host && !isWildcard(host)) this.#hosts.add(normalHost(host));
  }

  /** The error to answer `req` with, or undefined when it may pass. */
  check(req: IncomingMessage, rule: GuardRule = {}): HttpError | undefined {
    const host = req.headers.host;
    const hostname = host === undefined ? undefined : hostnameOf(host);
    if (hostname === undefined || !(isIP(hostname) || this.#hosts.has(hostname))) {
      return new HttpError(
        'SPROUT_ERR_HTTP_HOST_NOT_ALLOWED',
        `Host ${JSON.stringify(host ?? '')} is not this server's (localhost, an IP address or an allowed name)`,
        { field: 'host' },
      );
    }
    const crossOrigin = this.#crossOrigin(req, host!);
    if (crossOrigin) return new HttpError('SPROUT_ERR_HTTP_CROSS_ORIGIN', crossOrigin, { field: 'origin' });
    if (rule.token && this.#token !== undefined) {
      const auth = req.headers.authorization;
      const given = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
      if (!tokenMatches(given, this.#token)) {
        return new HttpError(
          'SPROUT_ERR_HTTP_UNAUTHORIZED',
          given === undefined
            ? 'this call needs the API token: Authorization: Bearer <token> (the api-token file in the data dir)'
            : 'wrong API token',
          { field: 'authorization' },
        );
      }
    }
    if (rule.bodyTypes && req.method !== 'GET' && req.method !== 'HEAD' && hasBody(req)) {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!rule.bodyTypes.includes(type)) {
        return new HttpError(
          'SPROUT_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
          `a body of type ${JSON.stringify(type || 'none')} is not accepted here; send ${rule.bodyTypes.join(' or ')}`,
          { field: 'content-type' },
        );
      }
    }
    return undefined;
  }

  /** Headers that go with a refusal (`www-authenticate` on a 401). */
  headers(err: HttpError): Record<string, string> {
    return err.code === 'SPROUT_ERR_HTTP_UNAUTHORIZED' ? { 'www-authenticate': 'Bearer' } : {};
  }

  #crossOrigin(req: IncomingMessage, host: string): string | undefined {
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') {
      return `a browser page of another site may not call this API (Sec-Fetch-Site: ${site}); there is no CORS`;
    }
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    let same = false;
    try {
      const u = new URL(origin);
      same = u.protocol === 'http:' && u.host === new URL(`http://${host}`).host;
    } catch {
      same = false;
    }
    return same ? undefined : `requests from ${JSON.stringify(origin)} are refused; there is no CORS`;
  }
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '[::]';

/** A host name as compared: lower case, no trailing dot, IPv6 without brackets. */
function normalHost(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** The name or address of a Host header (`name:port`, `[v6]:port`), or undefined when malformed. */
function hostnameOf(header: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/@]+))(?::\d{1,5})?$/.exec(header.trim());
  if (!m) return undefined;
  return m[1] ?? normalHost(m[2]!);
}
