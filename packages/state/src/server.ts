import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@sprout/observe';
import { createMetrics, Counter, Histogram, METRICS_CONTENT_TYPE } from '@sprout/observe/metrics';
import { STATE_ERROR_CODES, StateError, isStateError } from './errors.js';
import { StateStores } from './open.js';
import { parseQuery } from './query.js';
import type { DeleteRequest, SaveRequest, StateStore, TransactionOperation } from './types.js';

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
  logger?: Logger;
}

export interface StateApiServer {
  /** Listens on `port` (default 0: any free port) and `host` (default 127.0.0.1). */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** The request handler, to mount inside another server. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Stops listening and drops idle keep-alive connections; the stores stay open. */
  close(): Promise<void>;
}

type Op = 'get' | 'save' | 'delete' | 'bulk' | 'transaction' | 'query' | 'other';
const DAPR_OP_CODE: Record<Op, string> = {
  get: 'ERR_STATE_GET',
  save: 'ERR_STATE_SAVE',
  delete: 'ERR_STATE_DELETE',
  bulk: 'ERR_STATE_BULK_GET',
  transaction: 'ERR_STATE_TRANSACTION',
  query: 'ERR_STATE_QUERY',
  other: 'ERR_STATE_GET',
};

function bad(message: string): StateError {
  return new StateError('SPROUT_ERR_STATE_REQUEST_INVALID', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function stringMap(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw bad(`${where} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string' && typeof x !== 'number') throw bad(`${where}.${k} must be a string`);
    out[k] = String(x);
  }
  return out;
}

function etagOf(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v.value === 'string') return v.value; // { value } as some SDKs send it
  throw new StateError('SPROUT_ERR_STATE_ETAG_INVALID', `${where} must be a string`);
}

function saveItem(v: unknown, where: string, queryMeta: Record<string, string> | undefined): SaveRequest {
  if (!isRecord(v)) throw bad(`${where} must be an object with key and value`);
  if (typeof v.key !== 'string')
    throw new StateError('SPROUT_ERR_STATE_KEY_INVALID', `${where}.key must be a string`);
  if (!('value' in v))
    throw new StateError('SPROUT_ERR_STATE_VALUE_INVALID', `${where}.value is missing`, { key: v.key });
  const item: SaveRequest = { key: v.key, value: v.value };
  const etag = etagOf(v.etag, `${where}.etag`);
  if (etag !== undefined) item.etag = etag;
  const metadata = { ...queryMeta, ...stringMap(v.metadata, `${where}.metadata`) };
  if (Object.keys(metadata).length) item.metadata = metadata;
  if (v.options !== undefined && v.options !== null) {
    if (!isRecord(v.options)) throw bad(`${where}.options must be an object`);
    item.options = v.options as SaveRequest['options'] & object;
  }
  return item;
}

function deleteItem(v: unknown, where: string): DeleteRequest {
  if (!isRecord(v)) throw bad(`${where} must be an object with a key`);
  if (typeof v.key !== 'string')
    throw new StateError('SPROUT_ERR_STATE_KEY_INVALID', `${where}.key must be a string`);
  const item: DeleteRequest = { key: v.key };
  const etag = etagOf(v.etag, `${where}.etag`);
  if (etag !== undefined) item.etag = etag;
  const md = stringMap(v.metadata, `${where}.metadata`);
  if (md) item.metadata = md;
  if (isRecord(v.options)) item.options = v.options as DeleteRequest['options'] & object;
  return item;
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
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const log = options.logger ?? createLogger({ name: 'state-api' });
  const metrics = createMetrics();
  const requests = new Counter({
    name: 'sprout_state_requests_total',
    help: 'Dapr state API requests by store, operation and status',
    labelNames: ['store', 'operation', 'status'],
    registers: [metrics],
  });
  const duration = new Histogram({
    name: 'sprout_state_request_duration_seconds',
    help: 'Dapr state API request duration',
    labelNames: ['operation'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2],
    registers: [metrics],
  });

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxBody) {
        reject(
          new StateError(
            'SPROUT_ERR_STATE_BODY_TOO_LARGE',
            `request body of ${declared} bytes is over the limit of ${maxBody}`,
          ),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          req.removeAllListeners('data');
          req.resume();
          reject(
            new StateError(
              'SPROUT_ERR_STATE_BODY_TOO_LARGE',
              `request body is over the limit of ${maxBody} bytes`,
            ),
          );
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
      req.on('close', () => {
        if (!req.complete) reject(bad('the client closed the connection before the body was complete'));
      });
    });

  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const body = await readBody(req);
    if (body.length === 0) throw bad('the request body is empty; a JSON body is required');
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (err) {
      const m = /position (\d+)/.exec((err as Error).message);
      throw bad(
        `the request body is not valid JSON${m ? ` (at byte offset ${m[1]})` : ''}: ${(err as Error).message}`,
      );
    }
  };

  const metadataFrom = (url: URL): Record<string, string> | undefined => {
    let out: Record<string, string> | undefined;
    for (const [k, v] of url.searchParams) {
      if (k.startsWith('metadata.')) (out ??= {})[k.slice(9)] = v;
    }
    return out;
  };

  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    if (body === undefined) {
      res.writeHead(status, headers).end();
      return;
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res
      .writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        ...headers,
      })
      .end(text);
  };

  const sendError = (res: ServerResponse, err: unknown, op: Op, storeName: string) => {
    let e: StateError;
    if (isStateError(err)) e = err;
    else {
      log.error({ err, store: storeName, operation: op }, 'state API request failed');
      e = new StateError('SPROUT_ERR_STATE_ENGINE_FAILED', 'internal error');
    }
    const perOp = [
      'SPROUT_ERR_STATE_ETAG_MISMATCH',
      'SPROUT_ERR_STATE_ETAG_INVALID',
      'SPROUT_ERR_STATE_ENGINE_FAILED',
      'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE',
    ];
    const errorCode = perOp.includes(e.code) ? DAPR_OP_CODE[op] : STATE_ERROR_CODES[e.code].dapr;
    if (e.status >= 500) log.warn({ code: e.code, store: storeName, operation: op }, e.message);
    const headers: Record<string, string> =
      e.code === 'SPROUT_ERR_STATE_BODY_TOO_LARGE' ? { connection: 'close' } : {};
    send(
      res,
      e.status,
      {
        errorCode,
        message: e.message,
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: e.code,
            domain: 'sprout.dev',
            metadata: e.key !== undefined ? { key: e.key } : {},
          },
        ],
      },
      headers,
    );
  };

  const route = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    parts: string[],
  ): Promise<[Op, string]> => {
    const method = req.method ?? 'GET';
    const [version, area, storeName, rest, ...extra] = parts;
    if (version === 'v1.0' && area === 'healthz' && method === 'GET') {
      send(res, 204);
      return ['other', ''];
    }
    if (options.apiToken !== undefined && req.headers['dapr-api-token'] !== options.apiToken) {
      sendError(
        res,
        new StateError('SPROUT_ERR_STATE_UNAUTHORIZED', 'missing or wrong dapr-api-token header'),
        'other',
        '',
      );
      return ['other', ''];
    }
    if (version === 'v1.0' && area === 'metadata' && parts.length === 2 && method === 'GET') {
      send(res, 200, {
        id: options.appId ?? '',
        runtimeVersion: 'sprout-0.1.0',
        components: stores.names().map((name) => ({
          name,
          type: options.componentTypes?.[name] ?? 'state',
          version: 'v1',
          capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL', 'QUERY_API'],
        })),
      });
      return ['other', ''];
    }
    if (parts.length === 1 && version === 'metrics' && method === 'GET') {
      const text = await metrics.metrics();
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text);
      return ['other', ''];
    }
    if (area !== 'state' || !storeName || extra.length) {
      send(res, 404, { errorCode: 'ERR_NOT_FOUND', message: `no route for ${method} ${url.pathname}` });
      return ['other', ''];
    }
    const op: Op =
      version === 'v1.0-alpha1'
        ? 'query'
        : rest === undefined
          ? 'save'
          : method === 'POST' && rest === 'bulk'
            ? 'bulk'
            : method === 'POST' && rest === 'transaction'
              ? 'transaction'
              : method === 'DELETE'
                ? 'delete'
                : 'get';
    try {
      const allowed = op === 'get' ? 'GET' : op === 'delete' ? 'DELETE' : 'POST';
      if (
        method !== allowed ||
        (version !== 'v1.0' && op !== 'query') ||
        (op === 'query' && rest !== 'query')
      ) {
        send(res, 405, {
          errorCode: 'ERR_METHOD_NOT_ALLOWED',
          message: `${method} is not allowed on ${url.pathname}`,
        });
        return [op, storeName];
      }
      const store = stores.get(storeName);
      const metadata = metadataFrom(url);
      switch (op) {
        case 'get': {
          const consistency = url.searchParams.get('consistency') ?? undefined;
          const entry = await store.get(rest!, {
            ...(metadata ? { metadata } : {}),
            ...(consistency ? { consistency: consistency as 'strong' } : {}),
          });
          if (!entry) send(res, 204);
          else
            send(res, 200, JSON.stringify(entry.value), {
              etag: entry.etag,
              ...(entry.metadata ? { 'metadata.ttlexpiretime': entry.metadata.ttlExpireTime } : {}),
            });
          break;
        }
        case 'delete': {
          const concurrency = url.searchParams.get('concurrency') ?? undefined;
          const consistency = url.searchParams.get('consistency') ?? undefined;
          const ifMatch = req.headers['if-match'];
          const o: Omit<DeleteRequest, 'key'> = {};
          if (ifMatch) o.etag = ifMatch.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
          if (metadata) o.metadata = metadata;
          if (concurrency || consistency)
            o.options = {
              ...(concurrency ? { concurrency } : {}),
              ...(consistency ? { consistency } : {}),
            } as DeleteRequest['options'] & object;
          await store.delete(rest!, o);
          send(res, 204);
          break;
        }
        case 'save': {
          const body = await readJson(req);
          if (!Array.isArray(body))
            throw bad('the body of a save must be a JSON array of {key, value} items');
          await store.save(body.map((v, i) => saveItem(v, `[${i}]`, metadata)));
          send(res, 204);
          break;
        }
        case 'bulk': {
          const body = await readJson(req);
          if (!isRecord(body) || !Array.isArray(body.keys) || body.keys.some((k) => typeof k !== 'string')) {
            throw bad('the body of a bulk get must be {"keys": ["k1", ...]}');
          }
          const items = await store.bulkGet(body.keys as string[], metadata ? { metadata } : undefined);
          send(
            res,
            200,
            items.map((i) =>
              i.error
                ? { key: i.key, error: i.error.message }
                : i.etag === undefined
                  ? { key: i.key }
                  : {
                      key: i.key,
                      data: i.value,
                      etag: i.etag,
                      ...(i.metadata ? { metadata: i.metadata } : {}),
                    },
            ),
          );
          break;
        }
        case 'transaction': {
          const body = await readJson(req);
          if (!isRecord(body) || !Array.isArray(body.operations))
            throw bad('the body of a transaction must be {"operations": [...]}');
          const ops: TransactionOperation[] = body.operations.map((o: unknown, i) => {
            if (!isRecord(o)) throw bad(`operations[${i}] must be an object`);
            if (o.operation === 'upsert')
              return {
                operation: 'upsert',
                request: saveItem(o.request, `operations[${i}].request`, undefined),
              };
            if (o.operation === 'delete')
              return { operation: 'delete', request: deleteItem(o.request, `operations[${i}].request`) };
            throw bad(`operations[${i}].operation must be "upsert" or "delete"`);
          });
          await store.transaction(ops, stringMap(body.metadata, 'metadata'));
          send(res, 204);
          break;
        }
        case 'query': {
          const query = parseQuery(await readJson(req));
          const out = await store.query(query, metadata);
          send(res, 200, {
            results: out.results.map((r) => ({ key: r.key, data: r.value, etag: r.etag })),
            ...(out.token ? { token: out.token } : {}),
          });
          break;
        }
        default:
          break;
      }
    } catch (err) {
      sendError(res, err, op, storeName);
    }
    return [op, storeName];
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    let url: URL;
    let parts: string[];
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      sendError(res, bad(`malformed request path ${JSON.stringify(req.url)}`), 'other', '');
      return;
    }
    route(req, res, url, parts).then(
      ([op, store]) => {
        if (op === 'other') return;
        requests.inc({ store, operation: op, status: String(res.statusCode) });
        duration.observe({ operation: op }, (performance.now() - started) / 1000);
      },
      (err: unknown) => {
        log.error({ err }, 'state API handler failed');
        if (!res.headersSent) sendError(res, err, 'other', '');
        else res.destroy();
      },
    );
  };

  let server: Server | undefined;
  return {
    handle,
    listen(port = 0, host = '127.0.0.1') {
      server = createServer({ keepAliveTimeout: 65_000 }, handle);
      const s = server;
      return new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
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
