import type { ServerResponse } from 'node:http';
import type { Logger } from '@sprout/observe';
import { STATE_ERROR_CODES, StateError, isStateError, type StateErrorCode } from '../errors.js';

/** What a state API request does: the metrics label, and what picks Dapr's per-operation error code. */
export type Op = 'get' | 'save' | 'delete' | 'bulk' | 'transaction' | 'query' | 'other';

const DAPR_OP_CODE: Record<Op, string> = {
  get: 'ERR_STATE_GET',
  save: 'ERR_STATE_SAVE',
  delete: 'ERR_STATE_DELETE',
  bulk: 'ERR_STATE_BULK_GET',
  transaction: 'ERR_STATE_TRANSACTION',
  query: 'ERR_STATE_QUERY',
  other: 'ERR_STATE_GET',
};

/** Codes Dapr reports with the operation's own errorCode rather than one of their own. */
const PER_OP = new Set<StateErrorCode>([
  'SPROUT_ERR_STATE_ETAG_MISMATCH',
  'SPROUT_ERR_STATE_ETAG_INVALID',
  'SPROUT_ERR_STATE_ENGINE_FAILED',
  'SPROUT_ERR_STATE_ENGINE_UNAVAILABLE',
]);

/** A malformed request (`SPROUT_ERR_STATE_REQUEST_INVALID`). */
export function bad(message: string): StateError {
  return new StateError('SPROUT_ERR_STATE_REQUEST_INVALID', message);
}

/** Answers `status`, with no body when `body` is undefined; a string body is sent as it is. */
export function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
) {
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
}

/**
 * Answers an error in Dapr's body, `{errorCode, message, details: [ErrorInfo]}`: `errorCode` is
 * Dapr's, the ErrorInfo `reason` the Sprout code. Anything that is not a StateError is logged and
 * answered as a 500 that hides its details.
 */
export function sendDaprError(res: ServerResponse, err: unknown, op: Op, storeName: string, log: Logger) {
  let e: StateError;
  if (isStateError(err)) e = err;
  else {
    log.error({ err, store: storeName, operation: op }, 'state API request failed');
    e = new StateError('SPROUT_ERR_STATE_ENGINE_FAILED', 'internal error');
  }
  const errorCode = PER_OP.has(e.code) ? DAPR_OP_CODE[op] : STATE_ERROR_CODES[e.code].dapr;
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
}
