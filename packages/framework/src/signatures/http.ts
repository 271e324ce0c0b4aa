import type { HttpFunction } from '../registry.js';
import { writeResult } from '../result.js';
import type { Invoker } from './invoker.js';

/**
 * `http`: Express-style `(req, res)`. A returned value other than undefined is the response; a
 * function that takes `res` and returns nothing owns the response (as with the anchors); one that
 * takes only `req` and returns nothing gets a 204.
 */
export function httpInvoker(fn: HttpFunction): Invoker {
  const ownsResponse = fn.length >= 2;
  return async (req, res) => {
    const value = await fn(req, res);
    if (value !== undefined || !ownsResponse) writeResult(res, value);
  };
}
