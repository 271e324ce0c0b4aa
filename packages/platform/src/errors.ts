/**
 * Every error code the platform raises; documented with how to fix in the package README. Invoke
 * failures (no ready instance, instance failed, no route) answer with the gateway's codes
 * (`SPROUT_ERR_GATEWAY_*`); `SPROUT_ERR_PLATFORM_NOT_READY` and `SPROUT_ERR_PLATFORM_UPSTREAM_FAILED`
 * are retired and never reused.
 */
export const PLATFORM_ERROR_CODES = [
  'SPROUT_ERR_PLATFORM_INVALID_FUNCTION',
  'SPROUT_ERR_PLATFORM_UNSUPPORTED_FIELD',
  'SPROUT_ERR_PLATFORM_NO_FUNCTION',
  'SPROUT_ERR_PLATFORM_DUPLICATE_FUNCTION',
  'SPROUT_ERR_PLATFORM_UNKNOWN_FUNCTION',
  'SPROUT_ERR_PLATFORM_INVALID_REQUEST',
  'SPROUT_ERR_PLATFORM_READINESS_TIMEOUT',
  'SPROUT_ERR_PLATFORM_INSTANCE_EXITED',
  'SPROUT_ERR_PLATFORM_NO_ROUTE',
  'SPROUT_ERR_PLATFORM_ROUTE_CONFLICT',
  'SPROUT_ERR_PLATFORM_STORE',
  'SPROUT_ERR_PLATFORM_PORT_IN_USE',
  'SPROUT_ERR_PLATFORM_COLLECTOR',
  'SPROUT_ERR_PLATFORM_INTERNAL',
] as const;

export type PlatformErrorCode = (typeof PLATFORM_ERROR_CODES)[number];

/** An error from the platform with a stable code; `status` is the HTTP status the API answers with. */
export class PlatformError extends Error {
  override name = 'PlatformError';
  constructor(
    readonly code: PlatformErrorCode,
    message: string,
    readonly status = 400,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
