export type StateErrorCode = 'SPROUT_ERR_STATE_ETAG_MISMATCH';

/** An error raised by a state store, with a stable code. */
export class StateError extends Error {
  override name = 'StateError';
  constructor(
    readonly code: StateErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
