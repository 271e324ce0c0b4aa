import { StateError } from './errors.js';
import type { StateOptions } from './types.js';

// The per-item checks every engine gets through EngineStore: options, TTL metadata and etags.

const ETAG_RE = /^\d{1,18}$/;

/** Checks `concurrency` and `consistency` (SPROUT_ERR_STATE_OPTION_INVALID). */
export function checkOptions(options: StateOptions | undefined): void {
  if (!options) return;
  const { concurrency, consistency } = options;
  if (concurrency !== undefined && concurrency !== 'first-write' && concurrency !== 'last-write') {
    throw new StateError(
      'SPROUT_ERR_STATE_OPTION_INVALID',
      `concurrency "${String(concurrency)}" is not first-write or last-write`,
    );
  }
  if (consistency !== undefined && consistency !== 'eventual' && consistency !== 'strong') {
    throw new StateError(
      'SPROUT_ERR_STATE_OPTION_INVALID',
      `consistency "${String(consistency)}" is not eventual or strong`,
    );
  }
}

/** Parses `ttlInSeconds` metadata: a whole number of seconds ≥ 1, or -1 for no expiry. */
export function parseTtl(metadata: Record<string, string> | undefined, key: string): number | undefined {
  const raw = metadata?.ttlInSeconds;
  if (raw === undefined || raw === '') return undefined;
  const text = String(raw).trim();
  if (!/^-?\d+$/.test(text) || (Number(text) < 1 && Number(text) !== -1) || Number(text) > 315_360_000) {
    throw new StateError(
      'SPROUT_ERR_STATE_TTL_INVALID',
      `ttlInSeconds "${text}" for key "${key}" must be a whole number of seconds from 1 to 315360000, or -1`,
      { field: key },
    );
  }
  const n = Number(text);
  return n === -1 ? undefined : n * 1000;
}

/** An etag as a store issues it (a decimal version); undefined when none is given. */
export function checkEtag(etag: unknown, key: string): string | undefined {
  if (etag === undefined || etag === null || etag === '') return undefined;
  if (typeof etag !== 'string' || !ETAG_RE.test(etag)) {
    throw new StateError(
      'SPROUT_ERR_STATE_ETAG_INVALID',
      `etag "${String(etag)}" for key "${key}" is not an etag this store issued`,
      {
        field: key,
      },
    );
  }
  return etag;
}
