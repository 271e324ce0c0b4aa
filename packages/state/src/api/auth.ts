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

const JSON_BODY = ['application/json'];

/** Dapr's errorCode for a refusal of the shared request guard. */
const DAPR_CODE: Record<number, string> = { 403: 'ERR_PERMISSION_DENIED' };

/**
 * The platform's one request guard, without a token of its own (the state API keeps Dapr's
 * `dapr-api-token`): a browser page of another origin and a foreign Host (DNS rebinding) are refused
 * on every route, so the API cannot be reached from a web page even when it runs without a token.
 * Without a token bodies keep any type (`curl -d` sends state as a form); with one, a body must be
 * `application/json` (`refusedBody`), as the platform API's writes.
 */
export class StateApiGuard {
  readonly #guard = new RequestGuard();

  /** True when `req` was refused (the answer is written, in Dapr's error body). */
  refused(req: IncomingMessage, res: ServerResponse): boolean {
    return this.#answer(req, res, this.#guard.check(req));
  }

  /** True when `req` carries a body that is not `application/json` (answered 415). */
  refusedBody(req: IncomingMessage, res: ServerResponse): boolean {
    return this.#answer(req, res, this.#guard.check(req, { bodyTypes: JSON_BODY }));
  }

  #answer(req: IncomingMessage, res: ServerResponse, err: HttpError | undefined): boolean {
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
