import type { IncomingMessage } from 'node:http';
import { StateError } from '../errors.js';

/**
 * The `dapr-api-token` check (Dapr's DAPR_API_TOKEN): undefined when the request may pass (no token
 * is configured, or the header matches), the SPROUT_ERR_STATE_UNAUTHORIZED error to answer otherwise.
 */
export function checkApiToken(req: IncomingMessage, apiToken: string | undefined): StateError | undefined {
  if (apiToken === undefined || req.headers['dapr-api-token'] === apiToken) return undefined;
  return new StateError('SPROUT_ERR_STATE_UNAUTHORIZED', 'missing or wrong dapr-api-token header');
}
