import { SproutError, type SproutErrorOptions } from '@sprout/http';

/**
 * Every error code the state package raises. Codes are stable: a retired code is never reused.
 * Each one is documented in the package README ("Error codes"); `errors.test.ts` keeps both in step.
 */
export const STATE_ERROR_CODES = {
  SPROUT_ERR_STATE_ETAG_MISMATCH: { status: 409, dapr: 'ERR_STATE_SAVE' },
  SPROUT_ERR_STATE_ETAG_INVALID: { status: 400, dapr: 'ERR_STATE_SAVE' },
  SPROUT_ERR_STATE_KEY_INVALID: { status: 400, dapr: 'ERR_MALFORMED_REQUEST' },
  SPROUT_ERR_STATE_VALUE_INVALID: { status: 400, dapr: 'ERR_MALFORMED_REQUEST' },
  SPROUT_ERR_STATE_VALUE_TOO_LARGE: { status: 413, dapr: 'ERR_MALFORMED_REQUEST' },
  SPROUT_ERR_STATE_TTL_INVALID: { status: 400, dapr: 'ERR_MALFORMED_REQUEST' },
  SPROUT_ERR_STATE_OPTION_INVALID: { status: 400, dapr: 'ERR_MALFORMED_REQUEST' },
  SPROUT_ERR_STATE_QUERY_INVALID: { status: 400, dapr: 'ERR_MALFORMED_REQUEST' },
  SPROUT_ERR_STATE_QUERY_PATH_MISSING: { status: 400, dapr: 'ERR_STATE_QUERY' },
  SPROUT_ERR_STATE_REQUEST_INVALID: { status: 400, dapr: 'ERR_MALFORMED_REQUEST' },
  SPROUT_ERR_STATE_BODY_TOO_LARGE: { status: 413, dapr: 'ERR_MALFORMED_REQUEST' },
  SPROUT_ERR_STATE_STORE_NOT_FOUND: { status: 400, dapr: 'ERR_STATE_STORE_NOT_FOUND' },
  SPROUT_ERR_STATE_COMPONENT_INVALID: { status: 500, dapr: 'ERR_STATE_STORE_NOT_CONFIGURED' },
  SPROUT_ERR_STATE_ENGINE_UNAVAILABLE: { status: 503, dapr: 'ERR_STATE_STORE_NOT_CONFIGURED' },
  SPROUT_ERR_STATE_ENGINE_FAILED: { status: 500, dapr: 'ERR_STATE_SAVE' },
  SPROUT_ERR_STATE_CLOSED: { status: 500, dapr: 'ERR_STATE_STORE_NOT_CONFIGURED' },
  SPROUT_ERR_STATE_UNAUTHORIZED: { status: 401, dapr: 'ERR_UNAUTHORIZED' },
  SPROUT_ERR_STATE_PORT_IN_USE: { status: 500, dapr: 'ERR_INTERNAL' },
} as const satisfies Record<string, { status: number; dapr: string }>;

export type StateErrorCode = keyof typeof STATE_ERROR_CODES;

/**
 * An error raised by a state store, with a stable code, the HTTP status of its code and, where one
 * applies, the key at fault as `field`.
 */
export class StateError extends SproutError<StateErrorCode> {
  override name = 'StateError';
  constructor(code: StateErrorCode, message: string, options: Omit<SproutErrorOptions, 'status'> = {}) {
    super(code, message, { ...options, status: STATE_ERROR_CODES[code].status });
  }

  /** @deprecated The key at fault is `field`; `key` is kept as an alias. */
  get key(): string | undefined {
    return this.field;
  }
}

/** True when `err` is a StateError (optionally with the given code). */
export function isStateError(err: unknown, code?: StateErrorCode): err is StateError {
  return err instanceof StateError && (code === undefined || err.code === code);
}
