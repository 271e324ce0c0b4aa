import { SproutError, type SproutErrorOptions } from '@sprout/http';

/**
 * Every error code of the console's own server (sign-in, accounts, API tokens, its pages). Codes are
 * stable: a retired code is never reused. Each is documented in the package README ("Error codes")
 * with what to do; `errors.test.ts` keeps both in step. The cluster installer's codes are in
 * `kubekey/errors.ts`.
 */
export const CONSOLE_ERROR_CODES = {
  SPROUT_ERR_CONSOLE_LOGIN_FAILED: { status: 401 },
  SPROUT_ERR_CONSOLE_LOGIN_RATE_LIMITED: { status: 429 },
  SPROUT_ERR_CONSOLE_ACCOUNTS_FILE: { status: 500 },
  SPROUT_ERR_CONSOLE_INVALID_REQUEST: { status: 400 },
  SPROUT_ERR_CONSOLE_FORBIDDEN: { status: 403 },
  SPROUT_ERR_CONSOLE_NOT_FOUND: { status: 404 },
  SPROUT_ERR_CONSOLE_ASSETS_MISSING: { status: 500 },
  SPROUT_ERR_CONSOLE_INTERNAL: { status: 500 },
} as const satisfies Record<string, { status: number }>;

export type ConsoleErrorCode = keyof typeof CONSOLE_ERROR_CODES;

/** An error of the console's server, with a stable code and the field at fault. */
export class ConsoleError extends SproutError<ConsoleErrorCode> {
  override name = 'ConsoleError';
  constructor(code: ConsoleErrorCode, message: string, options: Omit<SproutErrorOptions, 'status'> = {}) {
    super(code, message, { ...options, status: CONSOLE_ERROR_CODES[code].status });
  }
}
