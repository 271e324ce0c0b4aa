import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from '@sprout/http';
import type { Logger } from '@sprout/observe';
import { TriggersError, isTriggersError, type TriggersErrorCode } from '../errors.js';

/**
 * An error answered in Dapr's shape: Dapr's `errorCode` and HTTP status (what a Dapr client
 * checks), and the Sprout code as the ErrorInfo `reason`.
 */
export class DaprApiError extends TriggersError {
  constructor(
    code: TriggersErrorCode,
    readonly daprCode: string,
    readonly daprStatus: number,
    message: string,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(code, message, options);
  }
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Dapr's error body, `{errorCode, message, details: [ErrorInfo{reason: <Sprout code>}]}`. */
export function sendDaprError(
  res: ServerResponse,
  status: number,
  errorCode: string,
  message: string,
  reason: string,
  extra: Record<string, unknown> = {},
): void {
  const headers =
    reason === 'SPROUT_ERR_TRIGGERS_BODY_TOO_LARGE' ? { ...JSON_TYPE, connection: 'close' } : JSON_TYPE;
  sendJson(
    res,
    status,
    {
      errorCode,
      message,
      ...extra,
      details: [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'sprout.dev', metadata: {} },
      ],
    },
    headers,
  );
}

/**
 * Answers any error thrown by a route: a DaprApiError with its Dapr code and status, another coded
 * error of this package under `fallback` (the route's own Dapr code, status 500 unless the code is a
 * client error), anything else as a 500 that hides its details (and is logged).
 */
export function answerError(res: ServerResponse, err: unknown, fallback: string, log: Logger): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof DaprApiError) {
    sendDaprError(res, err.daprStatus, err.daprCode, err.message, err.code);
    return;
  }
  if (isTriggersError(err)) {
    const status = err.status < 500 ? err.status : 500;
    if (status >= 500) log.warn({ code: err.code }, err.message);
    sendDaprError(res, status, status === 413 ? 'ERR_BODY_READ' : fallback, err.message, err.code);
    return;
  }
  log.error({ err }, 'Dapr API request failed');
  sendDaprError(res, 500, fallback, 'internal error', 'SPROUT_ERR_TRIGGERS_PUBLISH_FAILED');
}

/** The request body, bounded: over `limit` is SPROUT_ERR_TRIGGERS_BODY_TOO_LARGE (413). */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readBody(req, {
    limit,
    tooLarge: (n) =>
      new TriggersError('SPROUT_ERR_TRIGGERS_BODY_TOO_LARGE', `request body is over ${n} bytes`),
    broken: () =>
      new TriggersError(
        'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
        'the client closed the connection before the body was complete',
      ),
  });
}

/** The `metadata.*` query parameters, without their prefix (the first value of each). */
export function queryMetadata(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (k.startsWith('metadata.') && !(k.slice(9) in out)) out[k.slice(9)] = v;
  }
  return out;
}
