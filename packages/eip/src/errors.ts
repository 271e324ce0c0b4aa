/** Every error code this package raises. Retired codes are never reused; each is documented in README.md. */
export const EIP_ERROR_CODES = [
  'SPROUT_ERR_EIP_BAD_ADDRESS',
  'SPROUT_ERR_EIP_BAD_SPEC',
  'SPROUT_ERR_EIP_POOL_OVERLAP',
  'SPROUT_ERR_EIP_SECOND_DEFAULT',
  'SPROUT_ERR_EIP_POOL_NOT_FOUND',
  'SPROUT_ERR_EIP_POOL_IN_USE',
  'SPROUT_ERR_EIP_PENDING',
  'SPROUT_ERR_EIP_BAD_REQUEST',
  'SPROUT_ERR_EIP_NOT_ALLOCATED',
  'SPROUT_ERR_EIP_BGP_MESSAGE',
  'SPROUT_ERR_EIP_BGP_CONFIG',
  'SPROUT_ERR_EIP_ANNOUNCE',
  'SPROUT_ERR_EIP_STORE',
] as const;

export type EipErrorCode = (typeof EIP_ERROR_CODES)[number];

/** An expected failure with a stable code; `field` names the input at fault when there is one. */
export class EipError extends Error {
  override name = 'EipError';
  constructor(
    readonly code: EipErrorCode,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(field ? `${field}: ${message}` : message, options);
  }
}

export function isEipError(err: unknown, code?: EipErrorCode): err is EipError {
  return err instanceof EipError && (code === undefined || err.code === code);
}
