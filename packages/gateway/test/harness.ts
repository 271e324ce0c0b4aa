/** Shared pieces of the gateway integration tests: a gateway with a captured log, and requests. */
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { createLogger } from '@sprout/observe';
import { createGateway, type FunctionUpstream, type Gateway, type GatewayOptions } from '@sprout/gateway';
import { ProcessUpstream } from './process-upstream.js';

export interface TestGateway {
  gw: Gateway;
  url: string;
  port: number;
  logs: Record<string, unknown>[];
}

export async function startGateway(options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const gw = createGateway({
    logger: createLogger({ name: 'gateway', level: 'info', format: 'json', destination }),
    scaleIntervalMs: 100,
    ...options,
  });
  const addr = await gw.listen(0, '127.0.0.1');
  return { gw, url: `http://127.0.0.1:${addr.port}`, port: addr.port, logs };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request on its own connection (no pooling, so tests do not share sockets). */
export function get(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls `check` every 20 ms until it returns true (the test's own timeout bounds it). */
export async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

/**
 * A gateway serving one process-backed function (the fixture server) under `/fn`, prefix stripped,
 * with its one instance up; `close()` stops both.
 */
export async function startRoutedGateway(
  name: string,
  options: Partial<GatewayOptions> = {},
): Promise<TestGateway & { fn: ProcessUpstream; close(): Promise<void> }> {
  const t = await startGateway(options);
  const fn = new ProcessUpstream(name);
  t.gw.setRoutes([
    {
      upstream: fn,
      scaling: { minReplicas: 1, maxReplicas: 1 },
      pathPrefixes: ['/fn'],
      options: { stripPrefix: true },
    },
  ]);
  await until(() => fn.instances().length === 1);
  return {
    ...t,
    fn,
    close: async () => {
      await t.gw.close();
      await fn.close();
    },
  };
}

/** A function with one fixed instance at `port` on 127.0.0.1 that never scales (a test server). */
export function staticUpstream(name: string, port: number): FunctionUpstream {
  return {
    name,
    instances: () => [{ id: 'a', host: '127.0.0.1', port }],
    scaleTo: () => {},
    onInstancesChanged: () => () => {},
  };
}
