import { createServer, type Server } from 'node:http';
import { applyServerLimits } from '@sprout/http';
import type { Logger } from '@sprout/observe';
import { METRICS_CONTENT_TYPE, type Registry } from '@sprout/observe/metrics';
import type { FunctionStatus } from './function-slot.js';

/** What the admin listener reports at `/healthz`. */
export interface AdminHealth {
  closing(): boolean;
  functions(): FunctionStatus[];
}

/**
 * The admin listener: `GET /metrics` (Prometheus text of `registry`) and `GET /healthz`, with limits
 * of its own (a flood on the traffic port does not use them up).
 */
export function createAdminServer(registry: Registry, log: Logger, health: AdminHealth): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
          res.end(text);
        },
        (err: unknown) => {
          log.error({ err }, 'metrics collection failed');
          res.writeHead(500).end();
        },
      );
    } else if (req.method === 'GET' && path === '/healthz') {
      const closing = health.closing();
      res.writeHead(closing ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: closing ? 'closing' : 'ok', functions: health.functions() }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    }
  });
  applyServerLimits(server, { maxConnections: 256 });
  return server;
}
