import type { ServerResponse } from 'node:http';
import { sendJson } from '@sprout/http';
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

const JSON_TYPE = { 'content-type': 'application/json' };

/** Answers `status` with no body. */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status).end();
}

/** Answers `status` with a JSON body, typed `application/json` as Dapr answers. */
export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): void {
  sendJson(res, status, body, headers ? { ...JSON_TYPE, ...headers } : JSON_TYPE);
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
  const headers = e.code === 'SPROUT_ERR_STATE_BODY_TOO_LARGE' ? { connection: 'close' } : undefined;
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
          metadata: e.field !== undefined ? { key: e.field } : {},
        },
      ],
    },
    headers,
  );
}
