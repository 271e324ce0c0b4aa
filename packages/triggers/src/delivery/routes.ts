import type { Agent } from 'node:http';
import { postToApp } from './callback.js';
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

/** The most of a `/dapr/subscribe` answer read. */
const MAX_SUBSCRIPTIONS_BYTES = 4 * 1024 * 1024;

/**
 * Reads the app's programmatic subscriptions (`GET <base>/dapr/subscribe`, Dapr's app callback),
 * over the delivery's keep-alive connections (node:http: fetch's first call alone costs a large
 * part of a second). No such route (404) is no subscriptions; anything else that is not a JSON
 * list is an error.
 */
export async function readAppSubscriptions(
  base: string,
  timeoutMs: number,
  signal?: AbortSignal,
  agent?: Agent,
): Promise<Entry[]> {
  const url = `${base}/dapr/subscribe`;
  const res = await postToApp(
    url,
    { method: 'GET', body: new Uint8Array(0), headers: {} },
    timeoutMs,
    signal,
    agent,
    MAX_SUBSCRIPTIONS_BYTES,
  );
  if (res.status === 404) return [];
  if (res.status !== 200) throw new Error(`GET ${url}: status ${res.status}`);
  let list: unknown;
  try {
    list = JSON.parse(res.text);
  } catch {
    list = undefined;
  }
  if (!Array.isArray(list)) throw new Error(`GET ${url}: not a JSON list`);
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
