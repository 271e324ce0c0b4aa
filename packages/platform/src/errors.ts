import { SproutError } from '@sprout/http';

/**
 * Every error code the platform raises; documented with how to fix in the package README. Invoke
 * failures (no ready instance, instance failed, no route) answer with the gateway's codes
 * (`SPROUT_ERR_GATEWAY_*`); `SPROUT_ERR_PLATFORM_NOT_READY` and `SPROUT_ERR_PLATFORM_UPSTREAM_FAILED`
 * are retired and never reused. Reading function.yaml is @sprout/spec's (`SPROUT_ERR_SPEC_*`):
 * `SPROUT_ERR_PLATFORM_INVALID_FUNCTION`, `_UNSUPPORTED_FIELD`, `_NO_FUNCTION` and
 * `_DUPLICATE_FUNCTION` are retired too.
 */
export const PLATFORM_ERROR_CODES = [
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
  'SPROUT_ERR_PLATFORM_NOTHING_TO_SERVE',
  'SPROUT_ERR_PLATFORM_TRIGGERS',
  'SPROUT_ERR_PLATFORM_UNKNOWN_BUILD',
  'SPROUT_ERR_PLATFORM_BUILD_RUNNING',
  'SPROUT_ERR_PLATFORM_BUILD_SOURCE',
  'SPROUT_ERR_PLATFORM_BUILD_CANCELLED',
  'SPROUT_ERR_PLATFORM_BUILD_INTERRUPTED',
] as const;

export type PlatformErrorCode = (typeof PLATFORM_ERROR_CODES)[number];

/** An error from the platform with a stable code; `status` is the HTTP status the API answers with. */
export class PlatformError extends SproutError<PlatformErrorCode> {
  override name = 'PlatformError';
  constructor(code: PlatformErrorCode, message: string, status = 400, options?: { cause?: unknown }) {
    super(code, message, { status, cause: options?.cause });
  }
}
