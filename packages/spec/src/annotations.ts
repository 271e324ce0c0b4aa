import { parseDuration } from '@sprout/http';
import { SpecError } from './errors.js';
import { ANNOTATION_PREFIX, ANNOTATIONS, EIP_IP_ANNOTATION, EIP_POOL_ANNOTATION } from './function-schema.js';
import type { ResolvedFunction } from './resolved.js';
import type { Locator } from './yaml.js';

/** Reads the `sprout.dev/` knobs and OpenELB's annotations into the resolved function. */
export function applyAnnotations(
  fn: ResolvedFunction,
  annotations: Record<string, string>,
  at: Locator,
): void {
  for (const [key, value] of Object.entries(annotations)) {
    const where = at(['metadata', 'annotations', key]);
    const fail = (why: string) =>
      new SpecError(
        'SPROUT_ERR_SPEC_INVALID_FUNCTION',
        `${where}: field "metadata.annotations.${key}": ${why}`,
        {
          field: `metadata.annotations.${key}`,
        },
      );
    if (key === EIP_POOL_ANNOTATION || key === EIP_IP_ANNOTATION) {
      if (!value.trim()) throw fail('must not be empty');
      if (key === EIP_POOL_ANNOTATION) fn.expose.pool = value.trim();
      else fn.expose.ip = value.trim();
      continue;
    }
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    const duration = () => {
      const ms = parseDuration(value);
      if (ms === undefined || ms <= 0) throw fail('not a duration (e.g. 500ms, 20s, 1m)');
      return ms;
    };
    switch (key.slice(ANNOTATION_PREFIX.length)) {
      case 'scaling-metric':
        if (value !== 'concurrency' && value !== 'requestRate' && value !== 'both')
          throw fail('must be concurrency, requestRate or both');
        fn.scaling.metric = value;
        break;
      case 'target-rate': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) throw fail('must be a positive integer');
        fn.scaling.targetRate = n;
        break;
      }
      case 'rate-window':
        fn.scaling.rateWindowMs = duration();
        break;
      case 'rate-granularity':
        fn.scaling.rateGranularityMs = duration();
        break;
      case 'readiness-timeout':
        fn.readinessTimeoutMs = duration();
        break;
      case 'response-header-timeout':
        fn.responseHeaderTimeoutMs = duration();
        break;
      case 'drain-timeout':
        fn.drainTimeoutMs = duration();
        break;
      case 'placeholder':
        fn.placeholder = value;
        break;
      case 'expose':
        if (value !== 'true' && value !== 'false') throw fail('must be "true" or "false"');
        fn.expose.enabled = value === 'true';
        break;
      case 'fallback':
        if (!/^https?:\/\/[^/]+/.test(value)) throw fail('must be an http:// or https:// URL');
        fn.fallback = value;
        break;
      default:
        throw new SpecError(
          'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
          `${where}: annotation "${key}" is not one Sprout knows (${Object.keys(ANNOTATIONS)
            .map((k) => ANNOTATION_PREFIX + k)
            .join(', ')})`,
          { field: `metadata.annotations.${key}` },
        );
    }
  }
}
