import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestGuard, tokenMatches, type HttpError } from '@sprout/http';
import { StateError } from '../errors.js';
import { send } from './respond.js';

/**
 * The `dapr-api-token` check (Dapr's DAPR_API_TOKEN), compared in constant time: undefined when the
 * request may pass (no token is configured, or the header matches), the SPROUT_ERR_STATE_UNAUTHORIZED
 * error to answer otherwise.
 */
export function checkApiToken(req: IncomingMessage, apiToken: string | undefined): StateError | undefined {
  if (apiToken === undefined) return undefined;
  const given = req.headers['dapr-api-token'];
  if (tokenMatches(typeof given === 'string' ? given : undefined, apiToken)) return undefined;
  return new StateError('SPROUT_ERR_STATE_UNAUTHORIZED', 'missing or wrong dapr-api-token header');
}

/** Dapr's errorCode for a refusal of the shared request guard. */
const DAPR_CODE: Record<number, string> = { 403: 'ERR_PERMISSION_DENIED' };

/**
 * The platform's one request guard, without a token of its own (the state API keeps Dapr's
 * `dapr-api-token`): a browser page of another origin and a foreign Host (DNS rebinding) are refused
 * on every route, so the API cannot be reached from a web page even when it runs without a token.
 * Bodies keep any type: Dapr's clients and `curl -d` send state without `application/json`.
 */
export class StateApiGuard {
  readonly #guard = new RequestGuard();

  /** True when `req` was refused (the answer is written, in Dapr's error body). */
  refused(req: IncomingMessage, res: ServerResponse): boolean {
    const err: HttpError | undefined = this.#guard.check(req);
    if (!err) return false;
    req.resume();
    send(res, err.status, {
      errorCode: DAPR_CODE[err.status] ?? 'ERR_MALFORMED_REQUEST',
      message: err.message,
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: err.code,
          domain: 'sprout.dev',
          metadata: {},
        },
      ],
    });
    return true;
  }
}
