import type { ResiliencyDocument, ResiliencyPolicyNames } from '@sprout/spec';
import { DAPR_RETRY_DEFAULTS, readRetryPolicy, type RetryPolicy } from '../delivery/policy.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';

/** Which way a component operation goes, in Dapr's words. */
export type Direction = 'inbound' | 'outbound';

/** Dapr's component kinds as its default policy names spell them. */
export type ComponentKind = 'Pubsub' | 'Binding';

/** The policies that apply to one component operation; an absent one does not apply. */
export interface ComponentPolicy {
  /** Where each came from: a target's name or a `Default…Policy`. */
  readonly names: Readonly<ResiliencyPolicyNames>;
  readonly retry?: RetryPolicy;
  /** One attempt's timeout. */
  readonly timeoutMs?: number;
  /** Shared by every operation of the component in that direction. */
  readonly breaker?: CircuitBreaker;
}

type Merged = Pick<ResiliencyDocument, 'timeouts' | 'retries' | 'circuitBreakers' | 'components'>;

const POLICY_KEYS = [
  ['timeout', 'Timeout', 'timeouts'],
  ['retry', 'Retry', 'retries'],
  ['circuitBreaker', 'CircuitBreaker', 'circuitBreakers'],
] as const;

/**
 * A Dapr app's resiliency, as daprd builds it from the Resiliency documents in scope: documents
 * whose `scopes` leave the app out are skipped, the rest merged in order (a later name wins). For a
 * component operation the named target's policies apply; a component with no target takes the
 * default policies, most specific first: `Default<Kind>Component<Direction><Type>Policy`, then
 * `DefaultComponent<Direction>…`, `DefaultComponent…`, `Default…Policy`. One circuit breaker per
 * component and direction lives as long as this object.
 *
 * @example
 * const r = new ResiliencyPolicies(resources.resiliencies ?? [], 'orders');
 * r.component('orders-bus', 'Pubsub', 'inbound'); // { retry, timeoutMs, breaker, names }
 */
export class ResiliencyPolicies {
  private readonly merged: Merged = { timeouts: {}, retries: {}, circuitBreakers: {}, components: {} };
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    documents: readonly ResiliencyDocument[],
    appId: string,
    private readonly onBreaker?: (
      component: string,
      direction: Direction,
      from: BreakerState,
      to: BreakerState,
    ) => void,
  ) {
    for (const d of documents) {
      if (d.scopes?.length && !d.scopes.includes(appId)) continue;
      Object.assign(this.merged.timeouts, d.timeouts);
      Object.assign(this.merged.retries, d.retries);
      Object.assign(this.merged.circuitBreakers, d.circuitBreakers);
      Object.assign(this.merged.components, d.components);
    }
  }

  /** True when no document in scope defines anything. */
  get empty(): boolean {
    return Object.values(this.merged).every((m) => Object.keys(m).length === 0);
  }

  /** The policies for `component`'s operations in `direction`. */
  component(name: string, kind: ComponentKind, direction: Direction): ComponentPolicy {
    const target = this.merged.components[name];
    const names: ResiliencyPolicyNames = target ? { ...target[direction] } : this.defaults(kind, direction);
    const m = this.merged;
    const retry = names.retry !== undefined ? m.retries[names.retry] : undefined;
    const breakerSpec =
      names.circuitBreaker !== undefined ? m.circuitBreakers[names.circuitBreaker] : undefined;
    let breaker: CircuitBreaker | undefined;
    if (breakerSpec) {
      const key = `${direction} ${name}`;
      breaker = this.breakers.get(key);
      if (!breaker) {
        breaker = new CircuitBreaker(breakerSpec, Date.now, (from, to) =>
          this.onBreaker?.(name, direction, from, to),
        );
        this.breakers.set(key, breaker);
      }
    }
    const timeoutMs = names.timeout !== undefined ? m.timeouts[names.timeout] : undefined;
    return {
      names,
      ...(retry
        ? {
            retry: readRetryPolicy(
              {
                ...(retry.policy ? { policy: retry.policy } : {}),
                ...(retry.durationMs !== undefined ? { duration: retry.durationMs } : {}),
                ...(retry.maxIntervalMs !== undefined ? { maxInterval: retry.maxIntervalMs } : {}),
                ...(retry.maxRetries !== undefined ? { maxRetries: retry.maxRetries } : {}),
                ...(retry.httpStatusCodes ? { httpStatusCodes: retry.httpStatusCodes } : {}),
              },
              DAPR_RETRY_DEFAULTS,
            ),
          }
        : {}),
      ...(timeoutMs !== undefined && timeoutMs > 0 ? { timeoutMs } : {}),
      ...(breaker ? { breaker } : {}),
    };
  }

  /** Dapr's default policy names for a component with no target, most specific first. */
  private defaults(kind: ComponentKind, direction: Direction): ResiliencyPolicyNames {
    const dir = direction === 'inbound' ? 'Inbound' : 'Outbound';
    const levels = [`${kind}Component${dir}`, `Component${dir}`, 'Component', ''];
    const out: ResiliencyPolicyNames = {};
    for (const [key, word, table] of POLICY_KEYS) {
      const found = levels.map((l) => `Default${l}${word}Policy`).find((n) => n in this.merged[table]);
      if (found) out[key] = found;
    }
    return out;
  }
}
