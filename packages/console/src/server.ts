import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  answerClientErrors,
  HttpError,
  applyServerLimits,
  loadOrCreateToken,
  refuseHostless,
  RequestGuard,
  sendError,
  type ServerLimits,
} from '@sprout/http';
import { createConsole, type ConsoleOptions, type ConsoleSite } from './console.js';
import { ConsoleError } from './errors.js';

export interface ConsoleServerOptions extends ConsoleOptions {
  /** Port (0 picks one). */
  port: number;
  /** Address (default 127.0.0.1: loopback only). */
  host?: string;
  /** Host names accepted besides `localhost` and IP addresses (a proxy's name). */
  allowedHosts?: string[];
  limits?: ServerLimits;
}

export interface ConsoleServer {
  server: Server;
  site: ConsoleSite;
  /** e.g. `http://127.0.0.1:9191` */
  url: string;
  /** The platform token of the data dir (`api-token`), which scripts may send as `Authorization: Bearer`. */
  token: string;
  close(): Promise<void>;
}

/**
 * The console on a listener of its own (`sprout console`: the cluster installer without a running
 * platform): its pages, sign-in and its parts' API, behind the same guard as the platform API (the
 * data dir's `api-token`, sessions, API tokens). Any other path is a coded 404.
 *
 * @example
 * const c = await startConsoleServer({ dataDir: '.sprout', port: 0 });
 * console.log(c.site.loginLink(c.url));
 * await c.close();
 */
export async function startConsoleServer(o: ConsoleServerOptions): Promise<ConsoleServer> {
  const { token } = loadOrCreateToken(o.dataDir);
  const site = await createConsole(o);
  const guard = new RequestGuard({
    token,
    auth: site.authenticator,
    https: o.secure === true,
    ...(o.allowedHosts ? { allowedHosts: o.allowedHosts } : {}),
  });
  if (o.host) guard.allowHost(o.host);
  const server = createServer((req, res) => {
    if (refuseHostless(req, res)) return;
    const target = req.url ?? '/';
    let url: URL | undefined;
    try {
      url = target.startsWith('/') ? new URL(`http://console${target}`) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || !site.serves(url.pathname)) {
      req.resume();
      const refused = guard.check(req);
      const err =
        refused ??
        new ConsoleError(
          'SPROUT_ERR_CONSOLE_NOT_FOUND',
          `no console route ${JSON.stringify(target.slice(0, 200))}; the platform API is served by sprout dev`,
        );
      return sendError(
        res,
        err,
        { code: 'SPROUT_ERR_CONSOLE_INTERNAL' },
        err instanceof HttpError ? guard.headers(err) : {},
      );
    }
    void site.handle(req, res, url, guard);
  });
  applyServerLimits(server, { maxConnections: 1_024, ...o.limits });
  answerClientErrors(server);
  server.listen(o.port, o.host ?? '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (err) {
    await site.close();
    throw err;
  }
  const { port, address } = server.address() as AddressInfo;
  const shown = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  return {
    server,
    site,
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    token,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await site.close();
    },
  };
}
