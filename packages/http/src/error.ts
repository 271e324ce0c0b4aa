/**
 * The one error shape of every Sprout package: a stable `code` (`SPROUT_ERR_<AREA>_<WHAT>`), a
 * one-line message, the HTTP `status` a server answers it with, and, where one applies, the `field`
 * (option, config key, YAML path, byte offset or state key) at fault. Each package subclasses it in
 * its own `errors.ts` with its own code table.
 *
 * @example
 * class GatewayError extends SproutError<GatewayErrorCode> {}
 * throw new GatewayError('SPROUT_ERR_GATEWAY_INVALID_OPTION', 'must be positive', { field: 'maxQueue' });
 */
export class SproutError<C extends string = string> extends Error {
  override name = 'SproutError';
  readonly code: C;
  /** The HTTP status a server answers this error with (400 unless the package says otherwise). */
  readonly status: number;
  /** What is at fault: an option, config key, YAML path, byte offset or key. */
  readonly field: string | undefined;

  constructor(code: C, message: string, options: SproutErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 400;
    this.field = options.field;
  }

  /** The body every coded error response carries: `{ error: { code, message, field? } }`. */
  toJSON(): ErrorBody {
    return {
      error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) },
    };
  }
}

export interface SproutErrorOptions {
  status?: number;
  field?: string | undefined;
  cause?: unknown;
}

/** The JSON body of every error response a Sprout server writes. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; [extra: string]: unknown };
}

/** True when `err` is a coded Sprout error (of any package), optionally with the given code. */
export function isSproutError(err: unknown, code?: string): err is SproutError {
  return err instanceof SproutError && (code === undefined || err.code === code);
}
