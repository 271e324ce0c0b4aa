import type { SproutRequest } from '../http/request.js';
import type { SproutResponse } from '../http/response.js';

/** Runs one function for one request; resolves when the function finished (not the response). */
export type Invoker = (req: SproutRequest, res: SproutResponse) => Promise<void>;

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
