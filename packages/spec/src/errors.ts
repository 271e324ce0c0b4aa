import { SproutError } from '@sprout/http';

/**
 * Every error the spec package raises, with how to fix it. The package README lists the same table;
 * `errors.test.ts` keeps the two in step. Retired codes are never reused.
 */
export const SPEC_ERROR_CODES = {
  SPROUT_ERR_SPEC_INVALID_FUNCTION:
    'A function.yaml does not parse or a field has a wrong value or type: fix the field at the file and line in the message.',
  SPROUT_ERR_SPEC_UNSUPPORTED_FIELD:
    'A field or `sprout.dev/` annotation Sprout cannot honour locally: remove it, or deploy to Kubernetes where OpenFunction runs it.',
  SPROUT_ERR_SPEC_NO_FUNCTION:
    'A path has no function.yaml, index.ts/index.js or package.json: point at a function folder, or add an index.ts.',
  SPROUT_ERR_SPEC_DUPLICATE_FUNCTION:
    'Two functions have the same name: rename one (`metadata.name`, or the folder).',
  SPROUT_ERR_SPEC_INVALID_COMPONENT:
    'A Dapr Component or Subscription file does not parse or is malformed (missing name or type, bad metadata, name used twice): fix the field named.',
  SPROUT_ERR_SPEC_INVALID_RESILIENCY:
    'A Dapr Resiliency document is malformed (a duration that does not parse, a retry policy other than constant/exponential, bad status codes, a target naming a policy that is not defined): fix the field named.',
  SPROUT_ERR_SPEC_SECRET_MISSING:
    'A component metadata item reads an environment variable (`secretKeyRef`/`envRef`) that is not set: set it, or give a `value`.',
} as const;

export type SpecErrorCode = keyof typeof SPEC_ERROR_CODES;

/** An error reading a function spec or component, with a stable code; messages start with `file:line`. */
export class SpecError extends SproutError<SpecErrorCode> {
  override name = 'SpecError';
}
