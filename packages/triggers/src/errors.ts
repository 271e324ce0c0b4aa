import { SproutError, type SproutErrorOptions } from '@sprout/http';

/**
 * Every error code the triggers package raises. Codes are stable: a retired code is never reused.
 * Each one is documented in the package README ("Error codes"); `errors.test.ts` keeps both in step.
 */
export const TRIGGERS_ERROR_CODES = {
  SPROUT_ERR_TRIGGERS_COMPONENT_UNSUPPORTED: { status: 400 },
  SPROUT_ERR_TRIGGERS_METADATA_INVALID: { status: 400 },
  SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED: { status: 400 },
  SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE: { status: 503 },
  SPROUT_ERR_TRIGGERS_OPERATION_UNSUPPORTED: { status: 400 },
  SPROUT_ERR_TRIGGERS_BINDING_FAILED: { status: 502 },
  SPROUT_ERR_TRIGGERS_CLOSED: { status: 500 },
  SPROUT_ERR_TRIGGERS_SCALER_INVALID: { status: 400 },
  SPROUT_ERR_TRIGGERS_REQUEST_INVALID: { status: 400 },
  SPROUT_ERR_TRIGGERS_BODY_TOO_LARGE: { status: 413 },
  SPROUT_ERR_TRIGGERS_UNAUTHORIZED: { status: 401 },
  SPROUT_ERR_TRIGGERS_PUBSUB_NOT_FOUND: { status: 404 },
  SPROUT_ERR_TRIGGERS_BINDING_NOT_FOUND: { status: 404 },
  SPROUT_ERR_TRIGGERS_PUBLISH_FAILED: { status: 500 },
  SPROUT_ERR_TRIGGERS_PORT_IN_USE: { status: 500 },
  SPROUT_ERR_TRIGGERS_POLICY_INVALID: { status: 400 },
  SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID: { status: 400 },
  SPROUT_ERR_TRIGGERS_DELIVERY_FAILED: { status: 502 },
  SPROUT_ERR_TRIGGERS_MATCH_UNSUPPORTED: { status: 400 },
  SPROUT_ERR_TRIGGERS_CIRCUIT_OPEN: { status: 503 },
  SPROUT_ERR_TRIGGERS_MESSAGE_TOO_LARGE: { status: 413 },
} as const satisfies Record<string, { status: number }>;

export type TriggersErrorCode = keyof typeof TRIGGERS_ERROR_CODES;

/** An error raised by the triggers package, with a stable code and the field at fault. */
export class TriggersError extends SproutError<TriggersErrorCode> {
  override name = 'TriggersError';
  constructor(code: TriggersErrorCode, message: string, options: Omit<SproutErrorOptions, 'status'> = {}) {
    super(code, message, { ...options, status: TRIGGERS_ERROR_CODES[code].status });
  }
}

/** True when `err` is a TriggersError (optionally with the given code). */
export function isTriggersError(err: unknown, code?: TriggersErrorCode): err is TriggersError {
  return err instanceof TriggersError && (code === undefined || err.code === code);
}
