import type { Target } from './prepare.js';
import type { RouteBook } from './route-book.js';
import type { AppRoute } from './routes.js';
import type { DeliveryTarget, Trigger } from './trigger-types.js';

/**
 * Where a trigger's messages go: the instance (`target.url()`) and the app's route there, asked
 * once per turn of the event loop for every message taken in it (a message taken later, or
 * retried, asks again). A lookup waiting for an instance is given up as soon as `signal` aborts,
 * so it never holds the delivery's close().
 */
export class TargetLookup {
  /** The target of the messages taken in this turn of the event loop. */
  private turn: Promise<Target> | undefined;
  /** Lookups waiting for an instance: rejected at once on abort (one listener for all). */
  private readonly waiting = new Set<(err: Error) => void>();

  constructor(
    private readonly trigger: Trigger,
    private readonly book: RouteBook | undefined,
    private readonly target: DeliveryTarget,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener(
      'abort',
      () => {
        for (const reject of this.waiting) reject(new Error('stopping'));
        this.waiting.clear();
      },
      { once: true },
    );
  }

  get(): Promise<Target> {
    let t = this.turn;
    if (!t) {
      const mine = (t = this.turn = this.lookUp());
      setImmediate(() => {
        if (this.turn === mine) this.turn = undefined;
      });
    }
    return t;
  }

  private async lookUp(): Promise<Target> {
    const trigger = this.trigger;
    let base: string;
    try {
      base = trimSlashes(await this.untilStopped(this.target.url()));
    } catch (err) {
      return { outcome: { kind: 'retry', reason: `no instance to deliver to: ${(err as Error).message}` } };
    }
    const book = this.book;
    if (trigger.kind === 'binding' || !book) return { base };
    let route: AppRoute | undefined;
    if (!book.declarative) {
      try {
        route = await book.appRoute(base);
      } catch (err) {
        book.forget(base);
        return {
          outcome: { kind: 'retry', reason: `reading the app's subscriptions: ${(err as Error).message}` },
        };
      }
      if (!route) {
        book.forget(base);
        const reason = `the app does not subscribe to ${trigger.pubsubname}/${trigger.topic} at GET /dapr/subscribe`;
        return { outcome: { kind: 'retry', reason } };
      }
    }
    const set = book.settingsFor(route);
    if ('invalid' in set) return { outcome: { kind: 'retry', reason: set.invalid }, ...set.dlt };
    return route ? { base, route, set } : { base, set };
  }

  /** `p`, or a rejection as soon as the signal aborts. */
  private untilStopped<T>(p: Promise<T>): Promise<T> {
    if (this.signal.aborted) return Promise.reject(new Error('stopping'));
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      p.then(
        (v) => {
          this.waiting.delete(reject);
          resolve(v);
        },
        (err: unknown) => {
          this.waiting.delete(reject);
          reject(err as Error);
        },
      );
    });
  }
}

/** The URL without its trailing slashes (no regular expression per message). */
function trimSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 47) end--;
  return end === url.length ? url : url.slice(0, end);
}
