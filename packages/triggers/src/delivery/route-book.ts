import type { Agent } from 'node:http';
import { isRawPayload } from '../api/envelope.js';
import { bulkMaxMessages, type BulkSubscribe } from './bulk.js';
import { compileMatch, type Matcher } from './match.js';
import { readAppSubscriptions, routeOf, type AppRoute, type RouteRule } from './routes.js';

/** Instances whose `/dapr/subscribe` answer is kept. */
const MAX_CACHED_APPS = 32;

/** What of a pub/sub trigger decides where its messages go (see `PubSubTrigger`). */
export interface RoutedSubscription {
  readonly pubsubname: string;
  readonly topic: string;
  readonly route?: string;
  readonly rules?: readonly RouteRule[];
  readonly metadata?: Readonly<Record<string, string>>;
  readonly bulkSubscribe?: BulkSubscribe;
}

/** What a route implies for every message, read once per route; or why it cannot be used. */
export type RouteSettings =
  | {
      readonly raw: boolean;
      readonly dlt: { deadLetterTopic?: string };
      readonly bulk?: { raw: boolean; max: number };
    }
  | { readonly invalid: string; readonly dlt: { deadLetterTopic?: string } };

/**
 * Where a pub/sub trigger's messages go: the app's route per instance (its `GET /dapr/subscribe`
 * answer, read once per instance, the newest few kept), what each route implies (metadata over the
 * trigger's, rawPayload, dead-letter topic, bulk) and the compiled routing rules. Nothing here runs
 * per message but map lookups.
 */
export class RouteBook {
  readonly #routes = new Map<string, Promise<AppRoute | undefined>>();
  readonly #matchers = new Map<string, Matcher>();
  readonly #settings = new WeakMap<object, RouteSettings>();

  /** Compiles the declarative rules now: one Sprout cannot evaluate is refused before the first message. */
  constructor(
    private readonly sub: RoutedSubscription,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal,
    private readonly agent?: Agent,
  ) {
    for (const r of sub.rules ?? []) this.#matcher(r.match);
  }

  /** A declarative Subscription decides the path (its default route or rules), not the app. */
  get declarative(): boolean {
    return this.sub.route !== undefined || (this.sub.rules?.length ?? 0) > 0;
  }

  /** The app's route for this subscription at the instance `base` (read once per instance). */
  appRoute(base: string): Promise<AppRoute | undefined> {
    let route = this.#routes.get(base);
    if (!route) {
      // One answer per instance; instances come and go (scale to zero and back), so keep the newest few.
      if (this.#routes.size >= MAX_CACHED_APPS) this.#routes.delete(this.#routes.keys().next().value!);
      route = readAppSubscriptions(base, this.timeoutMs, this.signal, this.agent).then((list) =>
        routeOf(list, this.sub.pubsubname, this.sub.topic),
      );
      this.#routes.set(base, route);
    }
    return route;
  }

  /** Reads the instance's subscriptions again next time (its answer failed or had no route). */
  forget(base: string): void {
    this.#routes.delete(base);
  }

  /** The route's metadata (over the trigger's), rawPayload, dead-letter topic and bulk settings, read once. */
  settingsFor(route: AppRoute | undefined): RouteSettings {
    const key: object = route ?? this.sub;
    let set = this.#settings.get(key);
    if (set) return set;
    const metadata = { ...route?.metadata, ...this.sub.metadata };
    const dlt = route?.deadLetterTopic !== undefined ? { deadLetterTopic: route.deadLetterTopic } : {};
    try {
      const raw = isRawPayload(metadata);
      // A declarative Subscription's bulkSubscribe, else (the app decides the route) the app's.
      const max = this.declarative ? bulkMaxMessages(this.sub.bulkSubscribe) : route?.bulk;
      set = { raw, dlt, ...(max ? { bulk: { raw, max } } : {}) };
    } catch (err) {
      set = { invalid: `subscription metadata: ${(err as Error).message}`, dlt };
    }
    this.#settings.set(key, set);
    return set;
  }

  /** The path of the request's event: the first rule whose match holds, else the default path (undefined: none). */
  pathFor(request: { readonly event: unknown }, route: AppRoute | undefined): string | undefined {
    const rules = route ? route.rules : (this.sub.rules ?? []);
    const path = route ? route.path : this.sub.route || undefined;
    // The event object is only asked for (and completed) when there is a rule to match.
    for (const r of rules) if (this.#matcher(r.match)(request.event)) return r.path;
    return path;
  }

  #matcher(expr: string): Matcher {
    let m = this.#matchers.get(expr);
    if (!m) this.#matchers.set(expr, (m = compileMatch(expr)));
    return m;
  }
}
