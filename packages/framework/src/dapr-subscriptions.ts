import type { FunctionContext } from './context.js';
import { BULK_SUBSCRIBE } from './dapr-bulk.js';

/** One entry of a Dapr app's `GET /dapr/subscribe` answer. */
export interface DaprSubscription {
  pubsubname: string;
  topic: string;
  route: string;
  /** Dapr's bulk subscribe: the function takes batches (`{entries}`) at the route, too. */
  bulkSubscribe: typeof BULK_SUBSCRIBE;
}

/**
 * The pub/sub inputs of an async function as Dapr subscriptions, routed under `base` (the
 * function's mount path, so daprd posts where the function is); empty for any other runtime.
 */
export function daprSubscriptions(context: FunctionContext, base = ''): DaprSubscription[] {
  if (context.runtime !== 'async') return [];
  return Object.entries(context.inputs ?? {})
    .filter(([, ref]) => ref.componentType.startsWith('pubsub.'))
    .map(([name, ref]) => ({
      pubsubname: ref.componentName,
      topic: ref.uri ?? name,
      route: `${base}/${name}`,
      bulkSubscribe: BULK_SUBSCRIBE,
    }));
}

/**
 * The paths daprd delivers an async function's input bindings to at the app's root
 * (`/<input>` and `/<componentName>`); empty for any other runtime.
 */
export function daprBindingRoutes(context: FunctionContext): string[] {
  if (context.runtime !== 'async') return [];
  return Object.entries(context.inputs ?? {})
    .filter(([, ref]) => !ref.componentType.startsWith('pubsub.'))
    .flatMap(([name, ref]) => [`/${name}`, `/${ref.componentName}`]);
}
