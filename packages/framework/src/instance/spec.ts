import type { ComponentDocument, FunctionContext, ResolvedFunction } from '@sprout/spec';
import type { RunOptions } from '../options.js';
import type { SignatureType } from '../signature.js';

/** One function an instance serves: a resolved function narrowed to what the process needs. */
export interface InstanceFunction {
  name: string;
  /** Folder (or file) with the code. */
  source: string;
  target?: string;
  signatureType?: SignatureType;
  /** FUNC_CONTEXT, when the function uses it (outputs, states, or the `(ctx, data)` signature); JSON text as a flag gives it. */
  context?: FunctionContext | string;
  /** Its Dapr components, validated; `secretKeyRef`/`envRef` values are read from the instance's environment at start. */
  components: ComponentDocument[];
  /** Mount path when several functions share the process. */
  path?: string;
}

/**
 * Everything one instance process needs, in one message: what `sprout run` builds from its flags
 * and what `sprout dev`'s supervisor sends a pre-started process. Nothing in it is parsed again.
 */
export interface InstanceSpec {
  functions: InstanceFunction[];
  port: number;
  host?: string;
  /** Request timeout in ms (0 = none). */
  timeoutMs: number;
  ignoredRoutes?: string[];
  bodyLimit?: number;
  logExecutionId: boolean;
  /** Reload on file changes; a module that fails to load answers 503 until fixed. */
  watch: boolean;
  /** Where embedded state engines keep their files. */
  dataDir: string;
}

/** True when the function uses what FUNC_CONTEXT carries: the async runtime, inputs, outputs, state stores, or the `(ctx, data)` signature. */
export function needsContext(fn: Pick<ResolvedFunction, 'signatureType' | 'context'>): boolean {
  return (
    fn.signatureType === 'openfunction' ||
    fn.context.runtime === 'async' ||
    'inputs' in fn.context ||
    'outputs' in fn.context ||
    'states' in fn.context
  );
}

/** An InstanceSpec for `functions`, with the framework options as `resolveRunOptions` validated them. */
export function instanceSpec(
  functions: InstanceFunction[],
  o: Pick<RunOptions, 'port' | 'host' | 'timeoutMs' | 'ignoredRoutes' | 'bodyLimit' | 'logExecutionId'>,
  rest: { watch: boolean; dataDir: string },
): InstanceSpec {
  return {
    functions,
    port: o.port,
    ...(o.host ? { host: o.host } : {}),
    timeoutMs: o.timeoutMs,
    ...(o.ignoredRoutes ? { ignoredRoutes: o.ignoredRoutes } : {}),
    ...(o.bodyLimit ? { bodyLimit: o.bodyLimit } : {}),
    logExecutionId: o.logExecutionId,
    ...rest,
  };
}
