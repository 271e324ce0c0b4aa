import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ResolvedFunction, SubscriptionDocument } from '@sprout/spec';
import type { InputBindingEngine, PubSubEngine } from '../broker.js';
import { TriggersError } from '../errors.js';
import type { ComponentPolicy } from '../resiliency/policies.js';
import type { ResiliencyPolicies } from '../resiliency/policies.js';
import type { Trigger } from './trigger-types.js';

/** The engines opened for a function's components, by component name. */
export interface TriggerEngines {
  readonly pubsubs: Readonly<Record<string, PubSubEngine>>;
  readonly bindings: Readonly<Record<string, InputBindingEngine>>;
}

export interface TriggersForOptions {
  /** Declarative Subscriptions (`--resources-path`): route, rules, dead-letter topic, metadata. */
  readonly subscriptions?: readonly SubscriptionDocument[];
  /** Dapr's app id (default the function's name): the default consumer group, `{appID}`, scopes. */
  readonly appId?: string;
  /**
   * Dapr Resiliency for the app: each input's component `inbound` policies (a target's, else Dapr's
   * defaults). Where none applies the delivery keeps its own defaults.
   */
  readonly resiliency?: ResiliencyPolicies;
}

/** One `{uuid}` per process, as daprd draws one per sidecar. */
const PROCESS_UUID = randomUUID();

/**
 * Dapr's `consumerID` as daprd reads it: the component's value with `{appID}`, `{podName}`,
 * `{namespace}` and `{uuid}` filled in, else the app id.
 */
function consumerGroup(
  fn: Pick<ResolvedFunction, 'components' | 'namespace'>,
  component: string,
  appId: string,
): string {
  const item = fn.components
    .find((c) => c.metadata.name === component)
    ?.spec.metadata.find((m) => m.name === 'consumerID');
  const value = item && 'value' in item && item.value !== undefined ? String(item.value) : '';
  if (!value) return appId;
  return value
    .replaceAll('{appID}', appId)
    .replaceAll('{podName}', hostname())
    .replaceAll('{namespace}', fn.namespace)
    .replaceAll('{uuid}', PROCESS_UUID);
}

/**
 * The delivery triggers of a resolved async function: one per `serving.triggers.dapr` input, fed by
 * the engine opened for its component. A pub/sub input takes the declarative Subscription for its
 * pub/sub and topic (scoped to the app, if scoped) when there is one. A component with no engine
 * given is SPROUT_ERR_TRIGGERS_PUBSUB_NOT_FOUND / SPROUT_ERR_TRIGGERS_BINDING_NOT_FOUND.
 */
export function triggersFor(
  fn: Pick<ResolvedFunction, 'name' | 'namespace' | 'triggers' | 'components'>,
  engines: TriggerEngines,
  options: TriggersForOptions = {},
): Trigger[] {
  const appId = options.appId ?? fn.name;
  const inbound = (name: string, kind: 'Pubsub' | 'Binding'): { resiliency?: ComponentPolicy } => {
    const p = options.resiliency?.component(name, kind, 'inbound');
    return p && Object.keys(p.names).length ? { resiliency: p } : {};
  };
  return (fn.triggers?.inputs ?? []).map((input): Trigger => {
    if (input.componentType.startsWith('bindings.')) {
      const engine = engines.bindings[input.componentName];
      if (!engine)
        throw new TriggersError(
          'SPROUT_ERR_TRIGGERS_BINDING_NOT_FOUND',
          `input "${input.name}" of function "${fn.name}": no input binding "${input.componentName}" was opened`,
          { field: input.componentName },
        );
      return {
        kind: 'binding',
        name: input.componentName,
        engine,
        ...inbound(input.componentName, 'Binding'),
      };
    }
    const engine = engines.pubsubs[input.componentName];
    if (!engine)
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_PUBSUB_NOT_FOUND',
        `input "${input.name}" of function "${fn.name}": no pub/sub "${input.componentName}" was opened`,
        { field: input.componentName },
      );
    const topic = input.topic ?? input.name;
    const sub = options.subscriptions?.find(
      (s) =>
        s.spec.pubsubname === input.componentName &&
        s.spec.topic === topic &&
        (!s.scopes?.length || s.scopes.includes(appId)),
    );
    const routes = sub?.spec.routes;
    return {
      kind: 'pubsub',
      name: input.name,
      pubsubname: input.componentName,
      engine,
      topic,
      group: consumerGroup(fn, input.componentName, appId),
      ...inbound(input.componentName, 'Pubsub'),
      ...(routes?.default ? { route: routes.default } : {}),
      ...(routes?.rules?.length ? { rules: routes.rules } : {}),
      ...(sub?.spec.deadLetterTopic ? { deadLetterTopic: sub.spec.deadLetterTopic } : {}),
      ...(sub?.spec.metadata ? { metadata: sub.spec.metadata } : {}),
      ...(sub?.spec.bulkSubscribe ? { bulkSubscribe: sub.spec.bulkSubscribe } : {}),
    };
  });
}
