import { FrameworkError } from './errors.js';

/** The signature types: the anchors' four plus Google's `typed` (JSON in, JSON out). */
export const SIGNATURE_TYPES = ['http', 'event', 'cloudevent', 'openfunction', 'typed'] as const;
export type SignatureType = (typeof SIGNATURE_TYPES)[number];

export function parseSignatureType(value: string, field = '--signature-type'): SignatureType {
  const v = value.toLowerCase();
  if ((SIGNATURE_TYPES as readonly string[]).includes(v)) return v as SignatureType;
  throw new FrameworkError(
    'SPROUT_ERR_FRAMEWORK_UNKNOWN_SIGNATURE',
    `unknown signature type "${value}" in ${field}; use one of: ${SIGNATURE_TYPES.join(', ')}`,
    { field },
  );
}
