import type { Delivery } from '../broker.js';
import { isTriggersError } from '../errors.js';
import type { Outcome } from './callback.js';
import { bindingRequest, pubsubRequest, type AppRequest, type EventSplice } from './envelope.js';
import type { RouteBook, RouteSettings } from './route-book.js';
import type { AppRoute } from './routes.js';
import type { Trigger } from './trigger-types.js';

/** What one attempt of a delivery POSTs, or an outcome known without POSTing, or why it never can be. */
export type Prepared = { deadLetterTopic?: string } & (
  | {
      url: string;
      request: AppRequest & { readonly json?: string; splice?(): EventSplice | undefined };
      kind: 'pubsub' | 'binding';
      /** Set when the subscription is bulk: the entry's payload kind and the batch's bound. */
      bulk?: { raw: boolean; max: number };
    }
  | { outcome: Outcome }
  | { invalid: string }
);

/** Where the messages taken in one turn of the event loop go: the instance and its route, or why not. */
export type Target =
  | {
      base: string;
      route?: AppRoute;
      set?: Extract<RouteSettings, { raw: boolean }>;
      /** The last path asked and its URL (the messages of a turn mostly go to one path). */
      at?: { path: string; url: string };
    }
  | { outcome: Outcome; deadLetterTopic?: string };

/**
 * Everything before the POST, once the target is known: the route's path and the request. Either
 * what to POST, or an outcome already known (no instance, no route, an expired event), or why it
 * can never be delivered.
 */
export function prepare(
  trigger: Trigger,
  book: RouteBook | undefined,
  d: Delivery,
  target: Target,
): Prepared {
  if ('outcome' in target) return target;
  const { base, route, set } = target;
  if (trigger.kind === 'binding' || !book || !set)
    return { url: `${base}/${trigger.name}`, request: bindingRequest(d), kind: 'binding' };
  const { raw, dlt } = set;
  let request: ReturnType<typeof pubsubRequest>;
  try {
    request = pubsubRequest(d, trigger.pubsubname, raw);
  } catch (err) {
    if (isTriggersError(err, 'SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID')) return { invalid: err.message, ...dlt };
    throw err;
  }
  if (request.expired) return { outcome: { kind: 'drop', reason: `event ${request.id} expired` }, ...dlt };
  let path: string | undefined;
  try {
    path = book.pathFor(request, route);
  } catch (err) {
    return { outcome: { kind: 'retry', reason: (err as Error).message }, ...dlt };
  }
  // As daprd: an event no rule matches, with no default route, is dropped.
  if (path === undefined)
    return {
      outcome: {
        kind: 'drop',
        reason: `event ${request.id}: no routing rule matches and there is no default route`,
      },
      ...dlt,
    };
  let at = target.at;
  if (at?.path !== path) target.at = at = { path, url: `${base}${path.startsWith('/') ? path : `/${path}`}` };
  const url = at.url;
  return set.bulk
    ? { url, request, kind: 'pubsub', bulk: set.bulk, deadLetterTopic: dlt.deadLetterTopic }
    : { url, request, kind: 'pubsub', deadLetterTopic: dlt.deadLetterTopic };
}
