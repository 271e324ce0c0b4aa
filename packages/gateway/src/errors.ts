import { SproutError } from '@sprout/http';

/**
 * Every error the gateway raises or answers with carries one of these stable codes. Each is
 * documented with how to fix it in the package README (a test keeps the two in step). Retired codes
 * are never reused.
 */
export const GatewayErrorCodes = {
  SPROUT_ERR_GATEWAY_NO_ROUTE: 'No route matches the request host, path and headers (404).',
  SPROUT_ERR_GATEWAY_QUEUE_FULL:
    'The function has no ready instance and its queue of held requests is full (503).',
  SPROUT_ERR_GATEWAY_READINESS_TIMEOUT:
    'The function did not get a ready instance within the readiness timeout (504).',
  SPROUT_ERR_GATEWAY_RESPONSE_HEADER_TIMEOUT:
    'The instance did not send response headers within the response-header timeout (504).',
  SPROUT_ERR_GATEWAY_UPSTREAM_FAILED:
    'The instance failed before answering: connection refused, reset or closed (502).',
  SPROUT_ERR_GATEWAY_CLOSING: 'The gateway is shutting down and no longer takes requests (503).',
  SPROUT_ERR_GATEWAY_INVALID_ROUTE: 'A route given to setRoutes is invalid; the message names the field.',
  SPROUT_ERR_GATEWAY_INVALID_OPTION: 'An option given to createGateway is invalid; the message names it.',
} as const;

export type GatewayErrorCode = keyof typeof GatewayErrorCodes;

/** An error with a stable code; `field` names the option or route field at fault when there is one. */
export class GatewayError extends SproutError<GatewayErrorCode> {
  override name = 'GatewayError';
}
