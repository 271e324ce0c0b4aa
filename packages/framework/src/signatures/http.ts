import type { HttpFunction } from '../registry.js';
import { writeResult } from '../result.js';
import type { SproutResponse } from '../http/response.js';
import { writeWhenDone, type Invoker } from './invoker.js';

/**
 * `http`: Express-style `(req, res)`. A returned value other than undefined is the response; a
 * function that takes `res` and returns nothing owns the response (as with the anchors); one that
 * takes only `req` and returns nothing gets a 204.
 */
export function httpInvoker(fn: HttpFunction): Invoker {
  const ownsResponse = fn.length >= 2;
  const answer = (res: SproutResponse, value: unknown) => {
    if (value !== undefined || !ownsResponse) writeResult(res, value);
  };
  // A synchronous function is answered in the same tick, with no promise made for it.
  return (req, res) => writeWhenDone(fn(req, res), res, answer);
}
