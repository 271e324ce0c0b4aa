import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '@sprout/http';
import { z } from 'zod';
import { SpecError, type SpecErrorCode } from './errors.js';
import { firstIssue } from './issues.js';
import { parseYamlAll, type Locator } from './yaml.js';

/**
 * Dapr's `Resiliency` (`dapr.io/v1alpha1`). The field list is upstream's: dapr/dapr
 * `pkg/apis/resiliency/v1alpha1/types.go` and its CRD `charts/dapr/crds/resiliency.yaml` (vendored in
 * `@sprout/kube`'s `crds/dapr/resiliency.yaml`; `resiliency.test.ts` keeps the two field lists in step).
 */
const policyNames = z.strictObject({
  timeout: z.string().min(1).optional(),
  retry: z.string().min(1).optional(),
  circuitBreaker: z.string().min(1).optional(),
});

const retry = z.strictObject({
  policy: z.string().optional(),
  duration: z.string().optional(),
  maxInterval: z.string().optional(),
  maxRetries: z.number().int().optional(),
  matching: z
    .strictObject({ httpStatusCodes: z.string().optional(), gRPCStatusCodes: z.string().optional() })
    .optional(),
});

const circuitBreaker = z.strictObject({
  maxRequests: z.number().int().optional(),
  interval: z.string().optional(),
  timeout: z.string().optional(),
  trip: z.string().optional(),
});

const appPolicies = policyNames.extend({ circuitBreakerCacheSize: z.number().int().optional() });

const resiliencyDocument = z.strictObject({
  apiVersion: z.literal('dapr.io/v1alpha1'),
  kind: z.literal('Resiliency'),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
  spec: z.strictObject({
    policies: z.strictObject({
      timeouts: z.record(z.string(), z.string()).nullish(),
      retries: z.record(z.string(), retry).nullish(),
      circuitBreakers: z.record(z.string(), circuitBreaker).nullish(),
    }),
    targets: z.strictObject({
      apps: z.record(z.string(), appPolicies).nullish(),
      actors: z
        .record(z.string(), appPolicies.extend({ circuitBreakerScope: z.string().optional() }))
        .nullish(),
      components: z
        .record(
          z.string(),
          z.strictObject({ inbound: policyNames.optional(), outbound: policyNames.optional() }),
        )
        .nullish(),
    }),
  }),
  scopes: z.array(z.string()).optional(),
});

/** The counters a circuit breaker's `trip` reads (gobreaker's Counts, as Dapr names them). */
const BREAKER_COUNTERS = [
  'requests',
  'totalSuccesses',
  'totalFailures',
  'consecutiveSuccesses',
  'consecutiveFailures',
] as const;
export type BreakerCounter = (typeof BREAKER_COUNTERS)[number];

/** A retry policy with durations in ms; an unset field takes Dapr's default where it is used. */
export interface ResiliencyRetry {
  policy?: 'constant' | 'exponential';
  durationMs?: number;
  maxIntervalMs?: number;
  maxRetries?: number;
  /** `matching.httpStatusCodes` as inclusive ranges; absent: every failure is retried. */
  httpStatusCodes?: readonly (readonly [number, number])[];
  /** `matching.gRPCStatusCodes` as inclusive ranges (kept: Sprout calls apps over HTTP only). */
  grpcStatusCodes?: readonly (readonly [number, number])[];
}

/** A circuit breaker with durations in ms and its `trip` read as `counter > value` (or `>=`, made `>`). */
export interface ResiliencyBreaker {
  maxRequests?: number;
  intervalMs?: number;
  timeoutMs?: number;
  /** Trips when `counts[counter] > above`; absent: Dapr's default, `consecutiveFailures > 5`. */
  trip?: { counter: BreakerCounter; above: number };
}

/** The policies named for one direction of a component target. */
export interface ResiliencyPolicyNames {
  timeout?: string;
  retry?: string;
  circuitBreaker?: string;
}

/** A validated Dapr Resiliency document, durations in ms. */
export interface ResiliencyDocument {
  name: string;
  namespace?: string;
  /** App ids the document applies to (none: every app). */
  scopes?: string[];
  /** `file`, or `file:line` of its `kind:` in a multi-document file. */
  source: string;
  timeouts: Record<string, number>;
  retries: Record<string, ResiliencyRetry>;
  circuitBreakers: Record<string, ResiliencyBreaker>;
  components: Record<string, { inbound?: ResiliencyPolicyNames; outbound?: ResiliencyPolicyNames }>;
  /** The document's `spec` as written (what `sprout deploy --render` puts on the cluster). */
  spec: Record<string, unknown>;
}

/** Dapr's duration reading: a bare integer is milliseconds, else a Go duration. */
function durationMs(text: string): number | undefined {
  if (/^\d+$/.test(text.trim())) return Number(text.trim());
  return parseDuration(text);
}

/** Dapr's status code patterns: `429,500-599`, each code within `range`. */
function codeRanges(text: string, range: [number, number]): [number, number][] | undefined {
  const out: [number, number][] = [];
  for (const part of text.split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (start < range[0] || start > range[1] || end < range[0] || end > range[1]) return undefined;
    out.push([start, end]);
  }
  return out;
}

const TRIP = new RegExp(`^\\s*(${BREAKER_COUNTERS.join('|')})\\s*(>=|>)\\s*(\\d+)\\s*$`);

/**
 * Validates one parsed YAML document as a Dapr Resiliency. Malformed values are
 * SPROUT_ERR_SPEC_INVALID_RESILIENCY; what Sprout cannot apply locally (targets `apps` and `actors`,
 * a `trip` beyond `<counter> > N` / `>= N`) is SPROUT_ERR_SPEC_UNSUPPORTED_FIELD; both name the
 * file, line (given the locator `at`) and field.
 */
export function parseResiliency(doc: unknown, source = 'resiliency', at?: Locator): ResiliencyDocument {
  const where = (path: (string | number)[]) => (at ? at(path) : source);
  const fail = (code: SpecErrorCode, path: (string | number)[], why: string) => {
    const field = path.join('.');
    return new SpecError(code, `${where(path)}: field "${field}": ${why}`, { field });
  };
  const r = resiliencyDocument.safeParse(doc);
  if (!r.success) {
    const { path, field, message, unknownKey } = firstIssue(r.error);
    const full = unknownKey === undefined ? path : [...path, unknownKey];
    throw new SpecError(
      'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
      `${where(full)}: field "${field || '(document)'}": ${message}`,
      { field },
    );
  }
  const { metadata, spec, scopes } = r.data;
  const policies = spec.policies;
  const out: ResiliencyDocument = {
    name: metadata.name,
    ...(metadata.namespace !== undefined ? { namespace: metadata.namespace } : {}),
    ...(scopes?.length ? { scopes } : {}),
    source,
    timeouts: {},
    retries: {},
    circuitBreakers: {},
    components: {},
    spec: spec as Record<string, unknown>,
  };
  const duration = (path: string[], text: string): number => {
    const ms = durationMs(text);
    if (ms === undefined)
      throw fail(
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
        path,
        `"${text}" is not a duration (e.g. 500ms, 5s, 1m)`,
      );
    return ms;
  };
  for (const [name, text] of Object.entries(policies.timeouts ?? {}))
    out.timeouts[name] = duration(['spec', 'policies', 'timeouts', name], text);
  for (const [name, p] of Object.entries(policies.retries ?? {})) {
    const base = ['spec', 'policies', 'retries', name];
    if (p.policy !== undefined && p.policy !== 'constant' && p.policy !== 'exponential')
      throw fail(
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
        [...base, 'policy'],
        'must be constant or exponential',
      );
    if (p.maxRetries !== undefined && p.maxRetries < -1)
      throw fail(
        'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
        [...base, 'maxRetries'],
        'must be -1 (for ever) or more',
      );
    const ranges = (key: 'httpStatusCodes' | 'gRPCStatusCodes', range: [number, number]) => {
      const text = p.matching?.[key];
      if (text === undefined || text === '') return undefined;
      const out = codeRanges(text, range);
      if (!out)
        throw fail(
          'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
          [...base, 'matching', key],
          `"${text}" must be codes or ranges within ${range[0]}-${range[1]}, comma-separated (e.g. 429,500-599)`,
        );
      return out;
    };
    const http = ranges('httpStatusCodes', [100, 599]);
    const grpc = ranges('gRPCStatusCodes', [0, 16]);
    out.retries[name] = {
      ...(p.policy ? { policy: p.policy } : {}),
      ...(p.duration !== undefined ? { durationMs: duration([...base, 'duration'], p.duration) } : {}),
      ...(p.maxInterval !== undefined
        ? { maxIntervalMs: duration([...base, 'maxInterval'], p.maxInterval) }
        : {}),
      ...(p.maxRetries !== undefined ? { maxRetries: p.maxRetries } : {}),
      ...(http ? { httpStatusCodes: http } : {}),
      ...(grpc ? { grpcStatusCodes: grpc } : {}),
    };
  }
  for (const [name, b] of Object.entries(policies.circuitBreakers ?? {})) {
    const base = ['spec', 'policies', 'circuitBreakers', name];
    if (b.maxRequests !== undefined && b.maxRequests < 0)
      throw fail('SPROUT_ERR_SPEC_INVALID_RESILIENCY', [...base, 'maxRequests'], 'must be 0 or more');
    let trip: ResiliencyBreaker['trip'];
    if (b.trip !== undefined && b.trip.trim() !== '') {
      const m = TRIP.exec(b.trip);
      if (!m)
        throw fail(
          'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
          [...base, 'trip'],
          `"${b.trip}": sprout dev evaluates a trip of the form <counter> > N or <counter> >= N, counter one of ${BREAKER_COUNTERS.join(', ')} (as Dapr's docs write it); write it so, or run on Kubernetes`,
        );
      trip = { counter: m[1] as BreakerCounter, above: Number(m[3]) - (m[2] === '>=' ? 1 : 0) };
    }
    out.circuitBreakers[name] = {
      ...(b.maxRequests !== undefined ? { maxRequests: b.maxRequests } : {}),
      ...(b.interval !== undefined ? { intervalMs: duration([...base, 'interval'], b.interval) } : {}),
      ...(b.timeout !== undefined ? { timeoutMs: duration([...base, 'timeout'], b.timeout) } : {}),
      ...(trip ? { trip } : {}),
    };
  }
  const targets = spec.targets;
  for (const [kind, why] of [
    ['apps', 'service invocation between apps, which sprout dev does not serve'],
    ['actors', 'actors, which sprout dev does not run'],
  ] as const) {
    const names = Object.keys(targets[kind] ?? {});
    if (names.length)
      throw fail(
        'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
        ['spec', 'targets', kind, names[0]!],
        `a "${kind}" target applies to ${why}; nothing local would honour it. Move it to a Resiliency scoped to the cluster, or remove it`,
      );
  }
  for (const [name, dirs] of Object.entries(targets.components ?? {})) {
    for (const dir of ['inbound', 'outbound'] as const) {
      const names = dirs[dir];
      if (!names) continue;
      const base = ['spec', 'targets', 'components', name, dir];
      const defined = { timeout: out.timeouts, retry: out.retries, circuitBreaker: out.circuitBreakers };
      for (const key of ['timeout', 'retry', 'circuitBreaker'] as const) {
        const ref = names[key];
        if (ref !== undefined && !(ref in defined[key]))
          throw fail(
            'SPROUT_ERR_SPEC_INVALID_RESILIENCY',
            [...base, key],
            `no ${key} policy named "${ref}" under spec.policies`,
          );
      }
    }
    out.components[name] = { ...dirs };
  }
  return out;
}

/**
 * The Resiliency documents in `resiliency.yaml` (or `.yml`) beside a function.yaml, as a self-hosted
 * daprd reads that file from its resources folder; undefined when there is none.
 */
export function resiliencyBeside(dir: string): ResiliencyDocument[] | undefined {
  const file = ['resiliency.yaml', 'resiliency.yml'].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = `${file}: cannot read: ${(err as Error).message}`;
    throw new SpecError('SPROUT_ERR_SPEC_INVALID_RESILIENCY', why, { cause: err });
  }
  const docs = parseYamlAll(text, file, 'SPROUT_ERR_SPEC_INVALID_RESILIENCY');
  return docs
    .filter(({ value }) => (value as { kind?: unknown }).kind === 'Resiliency')
    .map(({ value, at }) => parseResiliency(value, docs.length > 1 ? at(['kind']) : file, at));
}
