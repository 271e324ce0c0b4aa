import { SproutError, type SproutErrorOptions } from '@sprout/http';

/**
 * Every error code the `sprout` command raises itself (the packages it drives raise their own).
 * Codes are stable: a retired code is never reused. Each is listed with how to fix it in the
 * package README; `test/errors.test.ts` keeps both in step.
 */
export const CLI_ERROR_CODES = {
  SPROUT_ERR_CLI_INIT_EXISTS: { status: 409 },
  SPROUT_ERR_CLI_INIT_NOT_A_FOLDER: { status: 400 },
} as const satisfies Record<string, { status: number }>;

export type CliErrorCode = keyof typeof CLI_ERROR_CODES;

/** An expected failure of a command, with a stable code and the option or path at fault as `field`. */
export class CliError extends SproutError<CliErrorCode> {
  override name = 'CliError';
  constructor(code: CliErrorCode, message: string, options: Omit<SproutErrorOptions, 'status'> = {}) {
    super(code, message, { ...options, status: CLI_ERROR_CODES[code].status });
  }
}
