import type { ResolvedFunction } from '@sprout/spec';
import { parseSignatureType } from '../signature.js';
import { needsContext, type InstanceFunction } from './spec.js';

/**
 * The part of a resolved function its instance serves. The context is passed only when the function
 * uses it (loading it costs a plain HTTP function start-up time). Component secrets are resolved
 * by the instance itself, against its own environment.
 */
export function instanceFunction(fn: ResolvedFunction): InstanceFunction {
  return {
    name: fn.name,
    source: fn.dir,
    ...(fn.target ? { target: fn.target } : {}),
    ...(fn.signatureType ? { signatureType: parseSignatureType(fn.signatureType) } : {}),
    ...(needsContext(fn) ? { context: fn.context } : {}),
    components: fn.components,
  };
}
