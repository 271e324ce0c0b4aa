// The public API of @sprout/builder.
export { BuilderError, isBuilderError, BUILDER_ERROR_CODES, type BuilderErrorCode } from './errors.js';
export * from './oci/index.js';
export * from './registry/index.js';
