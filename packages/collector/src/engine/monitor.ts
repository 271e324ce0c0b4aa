import { createServer, type Server } from 'node:http';
import { METRICS_CONTENT_TYPE, type Registry } from '@sprout/observe/metrics';
import { CollectorError } from '../errors.js';

/** fluent-bit's monitoring server: `/api/v1/metrics/prometheus` (also `/metrics`) and `/api/v1/health`. */
export async function startMonitor(host: string, port: number, registry: Registry): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics' || req.url === '/api/v1/metrics/prometheus') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === '/api/v1/health') res.writeHead(200).end('ok\n');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new CollectorError('SPROUT_ERR_COLLECTOR_LISTEN', err.message, 'service.http_port')),
    );
    server.listen(port, host, resolve);
  });
  return server;
}
