// The public API of @sprout/builder.
export { BuilderError, isBuilderError, BUILDER_ERROR_CODES, type BuilderErrorCode } from './errors.js';
export * from './oci/index.js';
export * from './registry/index.js';
export * from './run-image/index.js';
export * from './rebase/index.js';
export {
  buildImage,
  cacheDirOf,
  type BuildImageOptions,
  type BuildImageResult,
  type BuildOutput,
  type RunImageProvider,
} from './build/build-image.js';
export { parseSource, type SourceSpec } from './build/source.js';
export { nodeBuildpack, type NodeBuildpackOptions } from './buildpacks/node/index.js';
export { LayerCache, type CachedLayer } from './cache/layer-cache.js';
export { SharedStore, SHARED_LIMITS } from './cache/shared-store.js';
export {
  runLifecycle,
  defaultBuildEnv,
  type LifecycleOptions,
  type LifecycleResult,
} from './lifecycle/lifecycle.js';
export { externalBuildpack } from './lifecycle/external.js';
export type { Buildpack, BuildpackInfo, BuildContext, DetectContext } from './lifecycle/buildpack.js';
export type { Logs } from './lifecycle/exec.js';
export type { LaunchProcess } from './lifecycle/layers.js';
export type { ProjectSource, SharedLayers } from './lifecycle/export.js';
