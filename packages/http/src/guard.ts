import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hasBody } from './body.js';
import { HttpError } from './errors.js';
import { tokenMatches } from './token.js';
import { CSRF_HEADER, parseCookies, SESSION_COOKIE } from './cookies.js';

/** Who a request is: the platform token, an API token a person made, or a signed-in browser. */
export interface Principal {
  user: string;
  via: 'token' | 'api-token' | 'session';
}

/**
 * Credentials besides the one platform token, kept by their owner (the console's accounts and
 * sessions): the guard asks, it stores nothing.
 */
export interface Authenticator {
  /** The owner of an API token, or undefined when it is no (longer a) valid token. */
  bearer(token: string): Principal | undefined;
  /** A live session by its cookie value, with its CSRF token; undefined when unknown or expired. */
  session(id: string): (Principal & { csrf: string }) | undefined;
}

export interface RequestGuardOptions {
  /** When set, requests that ask for it must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Host names accepted besides `localhost` and IP literals: the listen address when it is a name, a proxy's name. */
  allowedHosts?: readonly string[];
  /** API tokens and browser sessions accepted besides `token` (cookie sessions must send `x-sprout-csrf` on writes). */
  auth?: Authenticator;
  /** The server is reached over HTTPS (directly or through a proxy): a same-origin `Origin` is `https:`. */
  https?: boolean;
}

export interface GuardRule {
  /** The request must carry the token (when the guard has one). */
  token?: boolean;
  /**
   * Media types a request body may have (`application/json`, ...); a body of another type, or of
   * none, is refused with 415. Unset: any body (function traffic passed on as it came).
   */
  bodyTypes?: readonly string[];
  /**
   * A GET a browser may make from another site's link (the console's pages): no `Sec-Fetch-Site`
   * refusal. The Host check still holds; never for a route that answers data.
   */
  navigation?: boolean;
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
  readonly #auth: Authenticator | undefined;
  readonly #protocol: string;

  constructor(o: RequestGuardOptions = {}) {
    this.#token = o.token;
    this.#auth = o.auth;
    this.#protocol = o.https ? 'https:' : 'http:';
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
    const navigation = rule.navigation === true && (req.method === 'GET' || req.method === 'HEAD');
    const crossOrigin = navigation ? undefined : this.#crossOrigin(req, host!);
    if (crossOrigin) return new HttpError('SPROUT_ERR_HTTP_CROSS_ORIGIN', crossOrigin, { field: 'origin' });
    if (rule.token && (this.#token !== undefined || this.#auth)) {
      const who = this.authenticate(req);
      if (who instanceof HttpError) return who;
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

  /**
   * Who sent `req`, or the error to answer it with: `Authorization: Bearer` with the platform token
   * or an API token; else the session cookie, whose writes (any method but GET, HEAD, OPTIONS) must
   * repeat the session's CSRF token in `x-sprout-csrf` (a page of another site cannot read it).
   */
  authenticate(req: IncomingMessage): Principal | HttpError {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const given = header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
      if (given !== undefined && this.#token !== undefined && tokenMatches(given, this.#token)) {
        return { user: 'platform-token', via: 'token' };
      }
      const owner = given ? this.#auth?.bearer(given) : undefined;
      if (owner) return owner;
      return new HttpError('SPROUT_ERR_HTTP_UNAUTHORIZED', 'wrong API token', { field: 'authorization' });
    }
    const id = this.#auth ? parseCookies(req.headers.cookie).get(SESSION_COOKIE) : undefined;
    if (id !== undefined) {
      const session = this.#auth!.session(id);
      if (!session) {
        return new HttpError(
          'SPROUT_ERR_HTTP_UNAUTHORIZED',
          'the session has expired or was ended; sign in again',
          {
            field: 'cookie',
          },
        );
      }
      const write = !['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? 'GET');
      const csrf = req.headers[CSRF_HEADER];
      if (write && !tokenMatches(typeof csrf === 'string' ? csrf : undefined, session.csrf)) {
        return new HttpError(
          'SPROUT_ERR_HTTP_CSRF',
          `a write with a session cookie must carry the session's CSRF token in ${CSRF_HEADER} (the sprout_csrf cookie)`,
          { field: CSRF_HEADER },
        );
      }
      return { user: session.user, via: session.via };
    }
    return new HttpError(
      'SPROUT_ERR_HTTP_UNAUTHORIZED',
      this.#auth
        ? 'this call needs a signed-in session or Authorization: Bearer <token> (the api-token file in the data dir, or an API token)'
        : 'this call needs the API token: Authorization: Bearer <token> (the api-token file in the data dir)',
      { field: 'authorization' },
    );
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
      same = u.protocol === this.#protocol && u.host === new URL(`${this.#protocol}//${host}`).host;
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
