import { bulkMaxMessages } from './bulk.js';
/** A routing rule: the first whose `match` holds for the event picks the path. */
export interface RouteRule {
  readonly match: string;
  readonly path: string;
}

/** Where the app wants one topic's messages, from its `GET /dapr/subscribe` answer. */
export interface AppRoute {
  /** The default path (`route`, or `routes.default`), if any. */
  readonly path?: string;
  readonly rules: readonly RouteRule[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly deadLetterTopic?: string;
  /** With `bulkSubscribe.enabled`: the most entries in one bulk request. */
  readonly bulk?: number;
}

interface Entry {
  pubsubname?: unknown;
  topic?: unknown;
  route?: unknown;
  routes?: { default?: unknown; rules?: unknown };
  metadata?: unknown;
  deadLetterTopic?: unknown;
  bulkSubscribe?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/**
 * Reads the app's programmatic subscriptions (`GET <base>/dapr/subscribe`, Dapr's app callback).
 * No such route (404) is no subscriptions; anything else that is not a JSON list is an error.
 */
export async function readAppSubscriptions(
  base: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Entry[]> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const res = await fetch(`${base}/dapr/subscribe`, {
    signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
  });
  if (res.status === 404) {
    await res.body?.cancel();
    return [];
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`GET ${base}/dapr/subscribe: status ${res.status}`);
  }
  const list = (await res.json()) as unknown;
  if (!Array.isArray(list)) throw new Error(`GET ${base}/dapr/subscribe: not a JSON list`);
  return list.filter((e): e is Entry => e !== null && typeof e === 'object');
}

/** The route for `pubsubname`/`topic` among the app's subscriptions, or undefined when it has none. */
export function routeOf(entries: Entry[], pubsubname: string, topic: string): AppRoute | undefined {
  const e = entries.find((x) => x.pubsubname === pubsubname && x.topic === topic);
  if (!e) return undefined;
  const rules = (Array.isArray(e.routes?.rules) ? (e.routes.rules as unknown[]) : []).flatMap(
    (r): RouteRule[] => {
      const o = r as { match?: unknown; path?: unknown } | null;
      const path = str(o?.path);
      return o && typeof o.match === 'string' && path ? [{ match: o.match, path: slash(path) }] : [];
    },
  );
  const path = str(e.route) ?? str(e.routes?.default);
  if (!path && !rules.length) return undefined;
  const metadata: Record<string, string> = {};
  if (e.metadata && typeof e.metadata === 'object')
    for (const [k, v] of Object.entries(e.metadata)) if (typeof v === 'string') metadata[k] = v;
  const deadLetterTopic = str(e.deadLetterTopic);
  const bulk = bulkMaxMessages(e.bulkSubscribe);
  return {
    ...(bulk ? { bulk } : {}),
    ...(path ? { path: slash(path) } : {}),
    rules,
    metadata,
    ...(deadLetterTopic ? { deadLetterTopic } : {}),
  };
}

const slash = (p: string) => (p.startsWith('/') ? p : `/${p}`);
