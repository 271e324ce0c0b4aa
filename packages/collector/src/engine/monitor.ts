import type { Server } from 'node:http';
import type { Logger } from '@sprout/observe';
import { METRICS_CONTENT_TYPE, type Registry } from '@sprout/observe/metrics';
import { CollectorError } from '../errors.js';
import { guardedHttpServer, refusal, sendRefusal } from '../inputs/http-server.js';

/**
 * fluent-bit's monitoring server: `/api/v1/metrics/prometheus` (also `/metrics`) and `/api/v1/health`.
 * Other paths are a coded 404; a request it cannot read or handle is answered with a coded error and
 * logged, never the end of the process.
 */
export async function startMonitor(
  host: string,
  port: number,
  registry: Registry,
  log: Logger,
): Promise<Server> {
  const server = guardedHttpServer(
    async (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/metrics' || path === '/api/v1/metrics/prometheus') {
        const text = await registry.metrics();
        res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text);
      } else if (path === '/api/v1/health') res.writeHead(200).end('ok\n');
      else
        sendRefusal(
          req,
          res,
          refusal(
            'SPROUT_ERR_COLLECTOR_BAD_REQUEST',
            404,
            `unknown path (use /api/v1/metrics/prometheus, /metrics or /api/v1/health)`,
          ),
        );
    },
    (reason, detail) =>
      log.warn({ server: 'http_server', reason, ...detail }, 'monitoring server refused a request'),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new CollectorError('SPROUT_ERR_COLLECTOR_LISTEN', err.message, 'service.http_port')),
    );
    server.listen(port, host, resolve);
  });
  return server;
}
