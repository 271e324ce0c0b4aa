import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyServerLimits, RequestGuard, tokenMatches, type ServerLimits } from '@sprout/http';
import { createLogger, type Logger } from '@sprout/observe';
import { Counter, METRICS_CONTENT_TYPE, createMetrics } from '@sprout/observe/metrics';
import type { OutputBindingEngine, PubSubEngine } from '../broker.js';
import { TriggersError } from '../errors.js';
import { invokingWith, publishingWith } from '../resiliency/outbound.js';
import type { ResiliencyPolicies } from '../resiliency/policies.js';
import { invokeBinding } from './bindings.js';
import { publishBulk, publishOne } from './publish.js';
import { DaprApiError, answerError, sendDaprError } from './respond.js';

export interface DaprApiServerOptions {
  /** Pub/sub components by name. */
  pubsubs: Readonly<Record<string, PubSubEngine>>;
  /** Output bindings by name. */
  bindings?: Readonly<Record<string, OutputBindingEngine>>;
  /** The CloudEvent `source` of what is published (Dapr: the app id). */
  appId?: string;
  /** When set, every request but /v1.0/healthz must carry it in `dapr-api-token` (Dapr's DAPR_API_TOKEN). */
  apiToken?: string;
  /** Largest request body, in bytes; default 4 MiB (Dapr's `--max-body-size` default). */
  maxBodyBytes?: number;
  limits?: ServerLimits;
  logger?: Logger;
  /** After each message a broker accepted. */
  onPublished?(pubsub: string, topic: string, bytes: number): void;
  /** Dapr Resiliency: each component's `outbound` policies (or the defaults) on publish and invoke. */
  resiliency?: ResiliencyPolicies;
}

export interface DaprApiServer {
  /** Listens on `port` (default 0) and `host` (default 127.0.0.1); a taken port is SPROUT_ERR_TRIGGERS_PORT_IN_USE. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** The request handler, to mount in another server (it answers only the routes below). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/**
 * Serves Dapr's publish and output-binding HTTP API over local engines, so Dapr clients (the
 * official SDKs, curl, `ctx.send`) publish and invoke bindings against Sprout as against daprd.
 *
 * Routes: POST|PUT /v1.0/publish/{pubsub}/{topic...}; POST|PUT /v1.0-alpha1/publish/bulk/{pubsub}/{topic...}
 * (and /v1.0/publish/bulk/...); POST|PUT /v1.0/bindings/{name}; GET /v1.0/metadata;
 * GET /v1.0/healthz; GET /metrics.
 *
 * @example
 * const api = createDaprApiServer({ pubsubs: { orders: await openPubSub(component) }, appId: 'shop' });
 * const { port } = await api.listen(3500);
 */
export function createDaprApiServer(options: DaprApiServerOptions): DaprApiServer {
  const log = options.logger ?? createLogger({ name: 'dapr-api' });
  const r = options.resiliency;
  const pubsubs = new Map(
    Object.entries(options.pubsubs).map(([n, e]) => [
      n,
      r ? publishingWith(e, n, r.component(n, 'Pubsub', 'outbound')) : e,
    ]),
  );
  const bindings = new Map(
    Object.entries(options.bindings ?? {}).map(([n, e]) => [
      n,
      r ? invokingWith(e, n, r.component(n, 'Binding', 'outbound')) : e,
    ]),
  );
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const appId = options.appId ?? '';
  const guard = new RequestGuard();
  const registry = createMetrics();
  const requests = new Counter({
    name: 'sprout_triggers_api_requests_total',
    help: 'Dapr publish and bindings API requests by route, component and status',
    labelNames: ['route', 'component', 'status'],
    registers: [registry],
  });

  const pubsub = (name: string): PubSubEngine => {
    if (pubsubs.size === 0)
      throw new DaprApiError(
        'SPROUT_ERR_TRIGGERS_PUBSUB_NOT_FOUND',
        'ERR_PUBSUB_NOT_CONFIGURED',
        400,
        `pubsub ${name} is not configured: no pub/sub component is loaded`,
      );
    const engine = pubsubs.get(name);
    if (!engine)
      throw new DaprApiError(
        'SPROUT_ERR_TRIGGERS_PUBSUB_NOT_FOUND',
        'ERR_PUBSUB_NOT_FOUND',
        404,
        `pubsub ${name} is not found; the pub/sub components are ${[...pubsubs.keys()].sort().join(', ')}`,
        { field: 'pubsubname' },
      );
    return engine;
  };
  const scope = {
    appId,
    maxBody,
    pubsub,
    binding: (name: string) => bindings.get(name),
    ...(options.onPublished ? { onPublished: options.onPublished } : {}),
  };

  /** Answers one request; resolves with the route and component to count it under. */
  const route = async (req: IncomingMessage, res: ServerResponse, url: URL, parts: string[]) => {
    const refused = guard.check(req);
    if (refused) {
      req.resume();
      sendDaprError(res, refused.status, 'ERR_PERMISSION_DENIED', refused.message, refused.code);
      return ['refused', ''] as const;
    }
    const method = req.method ?? 'GET';
    const [version, area] = parts;
    if (version === 'v1.0' && area === 'healthz' && parts.length === 2 && method === 'GET') {
      res.writeHead(204).end();
      return ['healthz', ''] as const;
    }
    if (options.apiToken !== undefined) {
      const given = req.headers['dapr-api-token'];
      if (!tokenMatches(typeof given === 'string' ? given : undefined, options.apiToken)) {
        req.resume();
        sendDaprError(
          res,
          401,
          'ERR_UNAUTHORIZED',
          'missing or wrong dapr-api-token header',
          'SPROUT_ERR_TRIGGERS_UNAUTHORIZED',
        );
        return ['refused', ''] as const;
      }
    }
    const write = method === 'POST' || method === 'PUT';
    if (version === 'v1.0' && area === 'metadata' && parts.length === 2 && method === 'GET') {
      const components = [
        ...[...pubsubs].map(([name, e]) => ({ name, type: e.type, version: 'v1', capabilities: [] })),
        ...[...bindings].map(([name, e]) => ({ name, type: e.type, version: 'v1', capabilities: [] })),
      ];
      const text = JSON.stringify({ id: appId, runtimeVersion: 'sprout-0.1.0', components });
      res.writeHead(200, { 'content-type': 'application/json' }).end(text);
      return ['metadata', ''] as const;
    }
    if (parts.length === 1 && version === 'metrics' && method === 'GET') {
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(await registry.metrics());
      return ['metrics', ''] as const;
    }
    const bulk =
      area === 'publish' && parts[2] === 'bulk' && (version === 'v1.0-alpha1' || version === 'v1.0');
    if (write && (bulk || (version === 'v1.0' && area === 'publish'))) {
      const at = bulk ? 3 : 2;
      const name = parts[at] ?? '';
      const topic = parts.slice(at + 1).join('/');
      const which = bulk ? 'publish_bulk' : 'publish';
      try {
        if (!name)
          throw new DaprApiError(
            'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
            'ERR_PUBSUB_EMPTY',
            404,
            'pubsub name is empty',
            {
              field: 'pubsubname',
            },
          );
        pubsub(name);
        if (!topic)
          throw new DaprApiError(
            'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
            'ERR_TOPIC_NAME_EMPTY',
            404,
            `topic is empty in pubsub ${name}`,
            { field: 'topic' },
          );
        await (bulk ? publishBulk : publishOne)(scope, req, res, url, name, topic);
      } catch (err) {
        req.resume();
        answerError(res, err, 'ERR_PUBSUB_PUBLISH_MESSAGE', log);
      }
      return [which, pubsubs.has(name) ? name : ''] as const;
    }
    if (write && version === 'v1.0' && area === 'bindings' && parts.length === 3) {
      const name = parts[2]!;
      try {
        await invokeBinding(scope, req, res, name);
      } catch (err) {
        req.resume();
        answerError(res, err, 'ERR_INVOKE_OUTPUT_BINDING', log);
      }
      return ['bindings', bindings.has(name) ? name : ''] as const;
    }
    req.resume();
    sendDaprError(
      res,
      404,
      'ERR_NOT_FOUND',
      `no route for ${method} ${url.pathname}`,
      'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    );
    return ['other', ''] as const;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    let url: URL;
    let parts: string[];
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      req.resume();
      sendDaprError(
        res,
        400,
        'ERR_MALFORMED_REQUEST',
        `malformed request path ${JSON.stringify(req.url)}`,
        'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
      );
      return;
    }
    route(req, res, url, parts).then(
      ([r, component]) => requests.inc({ route: r, component, status: String(res.statusCode) }),
      (err: unknown) => answerError(res, err, 'ERR_INTERNAL', log),
    );
  };

  let server: Server | undefined;
  return {
    handle,
    listen(port = 0, host = '127.0.0.1') {
      const s = createServer(handle);
      applyServerLimits(s, options.limits);
      server = s;
      guard.allowHost(host);
      return new Promise((resolve, reject) => {
        const failed = (err: NodeJS.ErrnoException): void => {
          if (server === s) server = undefined;
          reject(
            err.code === 'EADDRINUSE' || err.code === 'EACCES'
              ? new TriggersError(
                  'SPROUT_ERR_TRIGGERS_PORT_IN_USE',
                  `the Dapr publish/bindings API cannot listen on ${host}:${port} (${err.code})`,
                  { field: 'port', cause: err },
                )
              : err,
          );
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
      server = undefined;
      if (!s) return Promise.resolve();
      return new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeIdleConnections();
      });
    },
  };
}
