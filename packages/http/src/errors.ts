import { SproutError } from './error.js';

/**
 * Every error code `@sprout/http` raises itself, with the HTTP status a server answers it with;
 * documented with how to fix in the package README ("Error codes"). Retired codes are never reused.
 */
export const HTTP_ERROR_CODES = {
  SPROUT_ERR_HTTP_UNAUTHORIZED: 401,
  SPROUT_ERR_HTTP_CROSS_ORIGIN: 403,
  SPROUT_ERR_HTTP_HOST_NOT_ALLOWED: 403,
  SPROUT_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: 415,
  SPROUT_ERR_HTTP_TOKEN_FILE: 500,
  SPROUT_ERR_HTTP_UNSAFE_PATH: 400,
  SPROUT_ERR_HTTP_INVALID_LIMIT: 500,
  SPROUT_ERR_HTTP_MALFORMED_REQUEST: 400,
  SPROUT_ERR_HTTP_CSRF: 403,
} as const satisfies Record<string, number>;

export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;

/** An error of the shared HTTP toolkit (request guard, token file), with its code's status. */
export class HttpError extends SproutError<HttpErrorCode> {
  override name = 'HttpError';
  constructor(code: HttpErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(code, message, { ...options, status: HTTP_ERROR_CODES[code] });
  }
}
