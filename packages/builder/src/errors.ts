import { SproutError, type SproutErrorOptions } from '@sprout/http';

/**
 * Every error code the builder package raises. Codes are stable: a retired code is never reused.
 * Each one is documented in the package README ("Error codes"); `errors.test.ts` keeps both in step.
 */
export const BUILDER_ERROR_CODES = {
  // OCI images and layouts (src/oci)
  SPROUT_ERR_BUILDER_LAYER_SOURCE: { status: 400 },
  SPROUT_ERR_BUILDER_LAYOUT_INVALID: { status: 400 },
  SPROUT_ERR_BUILDER_IMAGE_NOT_FOUND: { status: 404 },
  SPROUT_ERR_BUILDER_BLOB_MISSING: { status: 404 },
  SPROUT_ERR_BUILDER_DIGEST_MISMATCH: { status: 502 },
  // registry client (src/registry)
  SPROUT_ERR_BUILDER_REFERENCE_INVALID: { status: 400 },
  SPROUT_ERR_BUILDER_REGISTRY_INSECURE: { status: 400 },
  SPROUT_ERR_BUILDER_REGISTRY_UNREACHABLE: { status: 502 },
  SPROUT_ERR_BUILDER_REGISTRY_UNAUTHORIZED: { status: 401 },
  SPROUT_ERR_BUILDER_REGISTRY_NOT_FOUND: { status: 404 },
  SPROUT_ERR_BUILDER_REGISTRY_FAILED: { status: 502 },
  SPROUT_ERR_BUILDER_AUTH_CONFIG_INVALID: { status: 400 },
  // run image and rebase (src/run-image, src/rebase)
  SPROUT_ERR_BUILDER_RUN_IMAGE_FAILED: { status: 500 },
  SPROUT_ERR_BUILDER_REBASE_UNSUPPORTED: { status: 400 },
  // lifecycle, buildpacks, source and cache (src/lifecycle, src/buildpacks, src/build, src/cache)
  SPROUT_ERR_BUILDER_OPTION_INVALID: { status: 400 },
  SPROUT_ERR_BUILDER_SOURCE_INVALID: { status: 400 },
  SPROUT_ERR_BUILDER_GIT_FAILED: { status: 502 },
  SPROUT_ERR_BUILDER_BUILDPACK_INVALID: { status: 400 },
  SPROUT_ERR_BUILDER_BUILDPACK_OUTPUT_INVALID: { status: 500 },
  SPROUT_ERR_BUILDER_DETECT_FAILED: { status: 422 },
  SPROUT_ERR_BUILDER_DETECT_ERROR: { status: 500 },
  SPROUT_ERR_BUILDER_BUILD_FAILED: { status: 500 },
  SPROUT_ERR_BUILDER_NODE_VERSION: { status: 422 },
  SPROUT_ERR_BUILDER_PACKAGE_MANAGER_MISSING: { status: 422 },
} as const satisfies Record<string, { status: number }>;

export type BuilderErrorCode = keyof typeof BUILDER_ERROR_CODES;

/** An error raised by the builder package, with a stable code and the field at fault. */
export class BuilderError extends SproutError<BuilderErrorCode> {
  override name = 'BuilderError';
  constructor(code: BuilderErrorCode, message: string, options: Omit<SproutErrorOptions, 'status'> = {}) {
    super(code, message, { ...options, status: BUILDER_ERROR_CODES[code].status });
  }
}

/** True when `err` is a BuilderError (optionally with the given code). */
export function isBuilderError(err: unknown, code?: BuilderErrorCode): err is BuilderError {
  return err instanceof BuilderError && (code === undefined || err.code === code);
}
