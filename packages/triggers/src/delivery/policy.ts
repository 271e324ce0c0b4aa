import { parseDuration } from '@sprout/http';
import { TriggersError } from '../errors.js';

/**
 * A retry policy in the words of Dapr's resiliency spec (`spec.policies.retries.<name>`):
 * `policy` constant or exponential, `duration` (constant's interval), `maxInterval` (exponential's
 * cap), `maxRetries` (-1: retry for ever). Durations are Go-style strings (`5s`, `500ms`) or ms.
 */
export interface RetryPolicySpec {
  policy?: 'constant' | 'exponential';
  duration?: string | number;
  maxInterval?: string | number;
  maxRetries?: number;
  /** `matching.httpStatusCodes` read into inclusive ranges: only these answers are retried. */
  httpStatusCodes?: readonly (readonly [number, number])[];
}

/** A retry policy read and defaulted. */
export interface RetryPolicy {
  readonly policy: 'constant' | 'exponential';
  readonly durationMs: number;
  readonly maxIntervalMs: number;
  /** -1: no limit. */
  readonly maxRetries: number;
  /** When set, a failed answer with an HTTP status outside these ranges is not retried (Dapr's `matching`). */
  readonly httpStatusCodes?: readonly (readonly [number, number])[];
}

/**
 * Sprout's default when no policy is given, modelled on Dapr's built-in retries for app calls:
 * constant, 1 s apart, 3 retries (4 attempts), then the dead-letter topic.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  policy: 'constant',
  durationMs: 1000,
  maxIntervalMs: 60_000,
  maxRetries: 3,
};

/**
 * Dapr's defaults for a retry policy named in a Resiliency file that leaves fields out: constant,
 * `duration` 5 s, `maxInterval` 60 s, `maxRetries` -1 (for ever).
 */
export const DAPR_RETRY_DEFAULTS: RetryPolicy = {
  policy: 'constant',
  durationMs: 5000,
  maxIntervalMs: 60_000,
  maxRetries: -1,
};

/** Dapr's exponential backoff: first interval 500 ms, ×1.5 per retry, ±50 % jitter, capped. */
const EXP_INITIAL_MS = 500;
const EXP_MULTIPLIER = 1.5;
const EXP_RANDOMIZATION = 0.5;

function ms(value: string | number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  const out =
    typeof value === 'number' ? value : typeof value === 'string' ? parseDuration(value) : undefined;
  if (out === undefined || !Number.isFinite(out) || out < 0)
    throw new TriggersError(
      'SPROUT_ERR_TRIGGERS_POLICY_INVALID',
      `retry policy field "${field}": ${JSON.stringify(value)} is not a duration (e.g. 500ms, 5s)`,
      { field },
    );
  return out;
}

/**
 * Reads a resiliency-style retry policy, unset fields from `defaults`; anything malformed is
 * SPROUT_ERR_TRIGGERS_POLICY_INVALID.
 */
export function readRetryPolicy(
  spec: RetryPolicySpec = {},
  defaults: RetryPolicy = DEFAULT_RETRY_POLICY,
): RetryPolicy {
  const policy = spec.policy ?? defaults.policy;
  if (policy !== 'constant' && policy !== 'exponential')
    throw new TriggersError(
      'SPROUT_ERR_TRIGGERS_POLICY_INVALID',
      `retry policy field "policy": ${JSON.stringify(policy)} must be constant or exponential`,
      { field: 'policy' },
    );
  const maxRetries = spec.maxRetries ?? defaults.maxRetries;
  if (!Number.isInteger(maxRetries) || maxRetries < -1)
    throw new TriggersError(
      'SPROUT_ERR_TRIGGERS_POLICY_INVALID',
      `retry policy field "maxRetries": ${JSON.stringify(maxRetries)} must be a whole number, -1 for no limit`,
      { field: 'maxRetries' },
    );
  return {
    policy,
    durationMs: ms(spec.duration, 'duration', defaults.durationMs),
    maxIntervalMs: ms(spec.maxInterval, 'maxInterval', defaults.maxIntervalMs),
    maxRetries,
    ...(spec.httpStatusCodes ? { httpStatusCodes: spec.httpStatusCodes } : {}),
  };
}

/**
 * Whether a failure is one the policy retries: with `httpStatusCodes`, an answer whose status is
 * outside them is not (a failure without a status, a connection error or a timeout, always is).
 */
export function retriesStatus(policy: RetryPolicy, status: number | undefined): boolean {
  if (!policy.httpStatusCodes || status === undefined) return true;
  return policy.httpStatusCodes.some(([from, to]) => status >= from && status <= to);
}

/** True while `retriesDone` retries leave room for another. */
export function mayRetry(policy: RetryPolicy, retriesDone: number): boolean {
  return policy.maxRetries < 0 || retriesDone < policy.maxRetries;
}

/**
 * The wait before retry number `retry` (1 = the first retry). `random` is in [0, 1) (injectable so
 * the jitter can be checked).
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  if (policy.policy === 'constant') return policy.durationMs;
  const base = Math.min(EXP_INITIAL_MS * EXP_MULTIPLIER ** Math.max(0, retry - 1), policy.maxIntervalMs);
  const jittered = base * (1 - EXP_RANDOMIZATION + 2 * EXP_RANDOMIZATION * random());
  return Math.min(Math.round(jittered), policy.maxIntervalMs);
}
