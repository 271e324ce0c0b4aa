import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerClientErrors, applyServerLimits, refuseHostless, type ServerLimits } from '@sprout/http';
import { createLogger, type Logger } from '@sprout/observe';
import { StateStores } from './open.js';
import type { StateStore } from './types.js';
import { StateError } from './errors.js';
import { createApiMetrics } from './api/metrics.js';
import { bad, sendDaprError } from './api/respond.js';
import { createRouter } from './api/router.js';

export interface StateApiServerOptions {
  /** The stores to serve, by component name. */
  stores: StateStores | StateStore[];
  /** Reported by GET /v1.0/metadata. */
  appId?: string;
  /** Component types by name, reported by GET /v1.0/metadata. */
  componentTypes?: Record<string, string>;
  /** When set, every request but /v1.0/healthz must carry it in the `dapr-api-token` header (as Dapr's DAPR_API_TOKEN). */
  apiToken?: string;
  /** Largest request body, in bytes; default 4 MiB (Dapr's `--max-body-size` default). */
  maxBodyBytes?: number;
  /** Connection cap and header/request/keep-alive timeouts of the listener (`@sprout/http` defaults). */
  limits?: ServerLimits;
  logger?: Logger;
}

export interface StateApiServer {
  /**
   * Listens on `port` (default 0: any free port) and `host` (default 127.0.0.1); a port that is
   * taken or not allowed rejects with `SPROUT_ERR_STATE_PORT_IN_USE` naming it.
   */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** The request handler, to mount inside another server. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Stops listening and drops idle keep-alive connections; the stores stay open. */
  close(): Promise<void>;
}

/**
 * Serves Dapr's state HTTP API over the given stores, so any Dapr client (the official SDKs,
 * curl) works against Sprout on one machine.
 *
 * Routes: POST /v1.0/state/{store}; GET, DELETE /v1.0/state/{store}/{key};
 * POST /v1.0/state/{store}/bulk; POST /v1.0/state/{store}/transaction;
 * POST /v1.0-alpha1/state/{store}/query; GET /v1.0/metadata; GET /v1.0/healthz; GET /metrics.
 *
 * @example
 * const server = createStateApiServer({ stores, appId: 'orders' });
 * const { url } = await server.listen(3500);
 */
export function createStateApiServer(options: StateApiServerOptions): StateApiServer {
  const stores = options.stores instanceof StateStores ? options.stores : new StateStores(options.stores);
  const log = options.logger ?? createLogger({ name: 'state-api' });
  const metrics = createApiMetrics();
  const route = createRouter({
    stores,
    appId: options.appId,
    componentTypes: options.componentTypes,
    apiToken: options.apiToken,
    maxBody: options.maxBodyBytes ?? 4 * 1024 * 1024,
    metrics: metrics.registry,
    log,
  });

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    let url: URL;
    let parts: string[];
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      sendDaprError(res, bad(`malformed request path ${JSON.stringify(req.url)}`), 'other', '', log);
      return;
    }
    route(req, res, url, parts).then(
      ([op, store]) => {
        if (op !== 'other') metrics.record(op, store, res.statusCode, started);
      },
      (err: unknown) => {
        log.error({ err }, 'state API handler failed');
        if (!res.headersSent) sendDaprError(res, err, 'other', '', log);
        else res.destroy();
      },
    );
  };

  let server: Server | undefined;
  return {
    handle,
    listen(port = 0, host = '127.0.0.1') {
      server = createServer((req, res) => {
        if (!refuseHostless(req, res)) handle(req, res);
      });
      applyServerLimits(server, options.limits);
      answerClientErrors(server);
      const s = server;
      return new Promise((resolve, reject) => {
        const failed = (err: NodeJS.ErrnoException): void => {
          if (server === s) server = undefined;
          reject(listenError(err, host, port));
        };
        s.once('error', failed);
        s.listen(port, host, () => {
          s.off('error', failed);
          const a = s.address() as AddressInfo;
          resolve({ port: a.port, url: `http://${host}:${a.port}` });
        });
      });
    },
    close() {
      const s = server;
      if (!s) return Promise.resolve();
      server = undefined;
      return new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeIdleConnections();
      });
    },
  };
}

/** "Address in use" (or "not allowed") as a coded error naming the address; anything else as is. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code !== 'EADDRINUSE' && err.code !== 'EACCES') return err;
  const why = err.code === 'EADDRINUSE' ? 'something else listens there' : 'this user may not bind it';
  return new StateError(
    'SPROUT_ERR_STATE_PORT_IN_USE',
    `the Dapr state API cannot listen on ${host}:${port} (${err.code}: ${why})`,
    { field: 'port', cause: err },
  );
}
