import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  HttpError,
  isSproutError,
  sendError,
  tokenMatches,
  type Authenticator,
  type MountedSite,
  type Principal,
} from '@sprout/http';
import type { Logger } from '@sprout/observe';
import { Accounts } from './auth/accounts.js';
import { LoginLimiter, type LoginLimitOptions } from './auth/limiter.js';
import { handleAuth } from './auth/routes.js';
import { Sessions, type SessionOptions } from './auth/sessions.js';
import { createClusterApi, type ClusterApiOptions } from './kubekey/index.js';
import type { ConsoleRoutes } from './routes.js';
import { serveAsset } from './static.js';
import { ConsoleError } from './errors.js';

export interface ConsoleOptions {
  /** The data dir: the accounts file lives there (`console-accounts.json`, 0600). */
  dataDir: string;
  /** The admin's password on the first start (`SPROUT_ADMIN_PASSWORD`); else one is generated and shown once. */
  adminPassword?: string;
  /** The built web app (default: this package's `dist/web`). */
  assetsDir?: string;
  /** Cookies get `Secure`: the console is reached over HTTPS (a TLS proxy in front). */
  secure?: boolean;
  sessions?: SessionOptions;
  loginLimits?: LoginLimitOptions;
  /** API routes of other parts of the console, besides the cluster installer's. */
  routes?: ConsoleRoutes[];
  /** The cluster installer's kk command and environment (default: `kk` on this process's PATH). */
  clusters?: Omit<ClusterApiOptions, 'dataDir'>;
  /** Where errors that are bugs (uncoded, answered 500) are logged. */
  logger?: Logger;
}

/**
 * The console as a site a server mounts: its pages, the sign-in API (`/v1/auth/...`) and the API
 * routes of its parts, all behind the server's `RequestGuard`, which takes `authenticator` so the
 * same sessions and API tokens open the platform API. `sprout dev` mounts it on the platform API's
 * listener; `sprout console` on a listener of its own (`startConsoleServer`).
 */
export interface ConsoleSite extends MountedSite {
  /** The admin's password when this start created the account (to be shown once), else undefined. */
  createdPassword?: string;
  /** A sign-in link for `base` (the console's URL) with a one-time token, valid 24 h, as Jupyter prints. */
  loginLink(base: string): string;
  close(): Promise<void>;
}

const LINK_TTL_MS = 24 * 3600_000;

/** @example const site = await createConsole({ dataDir: '.sprout' }); */
export async function createConsole(o: ConsoleOptions): Promise<ConsoleSite> {
  const { accounts, password } = await Accounts.open(o.dataDir, o.adminPassword);
  const sessions = new Sessions(o.sessions);
  const limiter = new LoginLimiter(o.loginLimits);
  const assets = o.assetsDir ?? fileURLToPath(new URL('../dist/web', import.meta.url));
  const routes: ConsoleRoutes[] = [
    createClusterApi({ ...o.clusters, dataDir: o.dataDir }),
    ...(o.routes ?? []),
  ];
  const links = new Map<string, number>();
  const authenticator: Authenticator = {
    bearer: (t) => accounts.tokenOwner(t),
    session: (id) => {
      const s = sessions.get(id);
      return s ? { user: s.user, via: 'session', csrf: s.csrf } : undefined;
    },
  };
  const ctx = {
    accounts,
    sessions,
    limiter,
    secure: o.secure === true,
    useLoginToken(token: string) {
      const now = Date.now();
      for (const [t, expires] of links) {
        if (expires <= now) links.delete(t);
        else if (tokenMatches(token, t)) {
          links.delete(t);
          return true;
        }
      }
      return false;
    },
  };
  const routeOf = (pathname: string) =>
    routes.find((r) => pathname === r.prefix || pathname.startsWith(`${r.prefix}/`));
  return {
    authenticator,
    ...(password !== undefined ? { createdPassword: password } : {}),
    loginLink(base) {
      const token = randomBytes(24).toString('base64url');
      links.set(token, Date.now() + LINK_TTL_MS);
      return `${base.replace(/\/$/, '')}/#login=${token}`;
    },
    serves: (pathname) =>
      pathname === '/v1/auth' ||
      pathname.startsWith('/v1/auth/') ||
      routeOf(pathname) !== undefined ||
      (!pathname.startsWith('/v1/') && pathname !== '/v1' && pathname !== '/metrics'),
    async handle(req, res, url, guard) {
      try {
        const { pathname } = url;
        if (pathname.startsWith('/v1/auth/')) {
          const parts = pathname.slice('/v1/auth/'.length).split('/');
          return await handleAuth(ctx, guard, req, res, parts.map(decodeSegment));
        }
        const part = routeOf(pathname);
        if (part) {
          const refused = guard.check(req, {
            token: true,
            bodyTypes: part.bodyTypes ?? ['application/json'],
          });
          if (refused) throw refused;
          return await part.handle(req, res, url, guard.authenticate(req) as Principal);
        }
        const refused = guard.check(req, { navigation: true });
        if (refused) throw refused;
        await serveAsset(assets, req, res, pathname);
      } catch (err) {
        req.resume();
        if (!isSproutError(err)) o.logger?.error({ err, path: url.pathname }, 'console request failed');
        const headers = err instanceof HttpError ? guard.headers(err) : {};
        sendError(res, err, { code: 'SPROUT_ERR_CONSOLE_INTERNAL' }, headers);
      }
    },
    async close() {
      for (const r of routes) await r.close?.();
    },
  };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ConsoleError(
      'SPROUT_ERR_CONSOLE_INVALID_REQUEST',
      `bad percent-encoding in ${JSON.stringify(segment)}`,
    );
  }
}
