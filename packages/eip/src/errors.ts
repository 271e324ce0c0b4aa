import { SproutError } from '@sprout/http';

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

/** The HTTP status a server answers each code with; any code not listed is a 400. */
const EIP_STATUS: Partial<Record<EipErrorCode, number>> = {
  SPROUT_ERR_EIP_POOL_NOT_FOUND: 404,
  SPROUT_ERR_EIP_NOT_ALLOCATED: 404,
  SPROUT_ERR_EIP_POOL_IN_USE: 409,
  SPROUT_ERR_EIP_POOL_OVERLAP: 409,
  SPROUT_ERR_EIP_SECOND_DEFAULT: 409,
  SPROUT_ERR_EIP_STORE: 500,
};

/**
 * An expected failure with a stable code; `field` names the input at fault when there is one (and
 * leads the message). `status` follows the code: 404 for what does not exist, 409 for conflicts,
 * 500 for the store, else 400.
 *
 * @example
 * throw new EipError('SPROUT_ERR_EIP_BAD_REQUEST', 'at most one address per family', 'ips');
 */
export class EipError extends SproutError<EipErrorCode> {
  override name = 'EipError';
  constructor(code: EipErrorCode, message: string, field?: string, options: { cause?: unknown } = {}) {
    super(code, field ? `${field}: ${message}` : message, {
      field,
      status: EIP_STATUS[code] ?? 400,
      cause: options.cause,
    });
  }
}

export function isEipError(err: unknown, code?: EipErrorCode): err is EipError {
  return err instanceof EipError && (code === undefined || err.code === code);
}
