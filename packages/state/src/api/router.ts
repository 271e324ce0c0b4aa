import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@sprout/observe';
import type { Registry } from '@sprout/observe/metrics';
import type { StateStore } from '../types.js';
import { checkApiToken, StateApiGuard } from './auth.js';
import { sendHealth, sendMetadata, sendMetrics } from './metadata.js';
import { metadataFrom, type StateCall } from './request.js';
import { send, sendDaprError, type Op } from './respond.js';
import { bulkGetState, deleteState, getState, saveState } from './state-routes.js';
import { queryState } from './state-query.js';
import { transactState } from './transaction.js';

export interface RouterOptions {
  /** The stores served, by component name (`get` throws SPROUT_ERR_STATE_STORE_NOT_FOUND). */
  stores: { get(name: string): StateStore; names(): string[] };
  appId: string | undefined;
  componentTypes: Record<string, string> | undefined;
  apiToken: string | undefined;
  maxBody: number;
  metrics: Registry;
  log: Logger;
}

/**
 * Answers one request whose path is already split into decoded segments; resolves with the
 * operation and store name to count it under (`other` for requests that are not counted).
 */
export type Route = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  parts: string[],
) => Promise<readonly [Op, string]>;

type StateOp = Exclude<Op, 'other'>;

const HANDLERS: Record<StateOp, (call: StateCall) => Promise<void>> = {
  get: getState,
  delete: deleteState,
  save: saveState,
  bulk: bulkGetState,
  transaction: transactState,
  query: queryState,
};

const METHOD: Record<StateOp, string> = {
  get: 'GET',
  delete: 'DELETE',
  save: 'POST',
  bulk: 'POST',
  transaction: 'POST',
  query: 'POST',
};

const UNCOUNTED = ['other', ''] as const;

/** The operation a request under /{version}/state/{store}/{rest} asks for (its method checked later). */
function opOf(version: string | undefined, rest: string | undefined, method: string): StateOp {
  if (version === 'v1.0-alpha1') return 'query';
  if (rest === undefined) return 'save';
  if (method === 'POST' && rest === 'bulk') return 'bulk';
  if (method === 'POST' && rest === 'transaction') return 'transaction';
  return method === 'DELETE' ? 'delete' : 'get';
}

/**
 * The routes of the state API server: the request guard (no other origin, no foreign Host) on every
 * route, /v1.0/healthz (no token asked), then the token check (with a token, JSON bodies only), then
 * /v1.0/metadata, /metrics and the state routes, each dispatched to its handler.
 */
export function createRouter(o: RouterOptions): Route {
  const { stores, maxBody, log } = o;
  const guard = new StateApiGuard();
  return async (req, res, url, parts) => {
    if (guard.refused(req, res)) return UNCOUNTED;
    const method = req.method ?? 'GET';
    const [version, area, storeName, rest, ...extra] = parts;
    if (version === 'v1.0' && area === 'healthz' && method === 'GET') {
      sendHealth(res);
      return UNCOUNTED;
    }
    const denied = checkApiToken(req, o.apiToken);
    if (denied) {
      sendDaprError(res, denied, 'other', '', log);
      return UNCOUNTED;
    }
    // With a token, writes are JSON only (a page's form or text/plain post is refused, 415).
    if (o.apiToken !== undefined && guard.refusedBody(req, res)) return UNCOUNTED;
    if (version === 'v1.0' && area === 'metadata' && parts.length === 2 && method === 'GET') {
      sendMetadata(res, { appId: o.appId, componentTypes: o.componentTypes, names: stores.names() });
      return UNCOUNTED;
    }
    if (parts.length === 1 && version === 'metrics' && method === 'GET') {
      await sendMetrics(res, o.metrics);
      return UNCOUNTED;
    }
    if (area !== 'state' || !storeName || extra.length) {
      send(res, 404, { errorCode: 'ERR_NOT_FOUND', message: `no route for ${method} ${url.pathname}` });
      return UNCOUNTED;
    }
    const op = opOf(version, rest, method);
    try {
      if (
        method !== METHOD[op] ||
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
      await HANDLERS[op]({ req, res, url, store, rest, metadata: metadataFrom(url), maxBody });
    } catch (err) {
      sendDaprError(res, err, op, storeName, log);
    }
    return [op, storeName];
  };
}
