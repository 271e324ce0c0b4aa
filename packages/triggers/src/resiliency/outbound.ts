import { setTimeout as sleep } from 'node:timers/promises';
import type { OutputBindingEngine, PubSubEngine } from '../broker.js';
import { backoffMs, mayRetry } from '../delivery/policy.js';
import { TriggersError } from '../errors.js';
import type { ComponentPolicy } from './policies.js';

/** `p`, or a rejection once `ms` have passed (the operation itself is not cancelled: engines take no signal). */
function within<T>(p: Promise<T>, ms: number | undefined, what: string): Promise<T> {
  if (ms === undefined) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within the ${ms} ms timeout`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs one outbound component operation under its policies, as daprd's policy runner does: an open
 * circuit breaker refuses at once (SPROUT_ERR_TRIGGERS_CIRCUIT_OPEN, not retried); each attempt has
 * the timeout; a failed attempt is retried per the retry policy and counted by the breaker.
 */
async function runOutbound<T>(policy: ComponentPolicy, what: string, op: () => Promise<T>): Promise<T> {
  for (let retries = 0; ;) {
    const breaker = policy.breaker;
    if (breaker && breaker.admit() > 0)
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_CIRCUIT_OPEN',
        `${what}: the circuit breaker "${policy.names.circuitBreaker}" is open after repeated failures; it lets a request through again after its timeout`,
      );
    try {
      const out = await within(op(), policy.timeoutMs, what);
      breaker?.record(true);
      return out;
    } catch (err) {
      breaker?.record(false);
      if (!policy.retry || !mayRetry(policy.retry, retries)) throw err;
      retries++;
      await sleep(backoffMs(policy.retry, retries));
    }
  }
}

const applies = (p: ComponentPolicy) => Boolean(p.retry || p.timeoutMs !== undefined || p.breaker);

/** The pub/sub engine as the publish API sees it: `publish` under the component's outbound policies. */
export function publishingWith(engine: PubSubEngine, name: string, policy: ComponentPolicy): PubSubEngine {
  if (!applies(policy)) return engine;
  const out = Object.create(engine) as PubSubEngine;
  out.publish = (topic, data, metadata) =>
    runOutbound(policy, `publish to ${name}/${topic}`, () => engine.publish(topic, data, metadata));
  return out;
}

/** The output binding as the bindings API sees it: `invoke` under the component's outbound policies. */
export function invokingWith(
  engine: OutputBindingEngine,
  name: string,
  policy: ComponentPolicy,
): OutputBindingEngine {
  if (!applies(policy)) return engine;
  const out = Object.create(engine) as OutputBindingEngine;
  out.invoke = (operation, data, metadata) =>
    runOutbound(policy, `output binding ${name} ${operation}`, () =>
      engine.invoke(operation, data, metadata),
    );
  return out;
}
