import type { SproutRequest } from '../http/request.js';
import type { SproutResponse } from '../http/response.js';

/**
 * Runs one function for one request; resolves when the function finished (not the response). A
 * function that answered synchronously returns undefined instead of a promise (and may throw): the
 * per-request promises of an `async` wrapper are a measurable share of a small request's cost.
 */
export type Invoker = (req: SproutRequest, res: SproutResponse) => Promise<void> | void;

/** True for a promise or any other thenable a function returned. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Wraps a callback-style call (`fn(..., callback)`) as a promise. */
export function callbackToPromise(
  call: (cb: (err?: unknown, result?: unknown) => void) => unknown,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    try {
      const r = call((err, result) => (err ? reject(err as Error) : resolve(result)));
      if (r && typeof (r as Promise<unknown>).then === 'function')
        (r as Promise<unknown>).then(resolve, reject);
    } catch (err) {
      reject(err as Error);
    }
  });
}

/**
 * Writes what a function returned once it is known: now for a plain value (no promise made), when
 * it settles for a promise. `write` is built once per function, not per request.
 */
export function writeWhenDone(
  value: unknown,
  res: SproutResponse,
  write: (res: SproutResponse, value: unknown) => void,
): Promise<void> | void {
  if (!isThenable(value)) return write(res, value);
  return Promise.resolve(value).then((v) => write(res, v));
}
