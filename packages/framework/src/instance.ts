/**
 * `@sprout/framework/instance`: one way to start a function instance. `sprout run` builds an
 * InstanceSpec from its flags; `sprout dev` sends one to a pre-started process.
 */
export { runInstance, startInstance } from './instance/run.js';
export { instanceFunction } from './instance/from-resolved.js';
export { warmUp } from './instance/warm.js';
export { warmCompileCache, warmCompileCacheOffThread } from './loader/ts-cache.js';
export { needsContext, instanceSpec, type InstanceSpec, type InstanceFunction } from './instance/spec.js';
export { resolveRunOptions, type RawRunOptions, type RunOptions } from './options.js';
