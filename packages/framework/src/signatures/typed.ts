import { HttpError } from '../errors.js';
import type { TypedFunction } from '../registry.js';
import type { Invoker } from './invoker.js';

/** `typed`: the JSON body in, the returned value out as JSON. */
export function typedInvoker(fn: TypedFunction): Invoker {
  return async (req, res) => {
    let input = req.body;
    if (Buffer.isBuffer(input) || typeof input === 'string') {
      try {
        input = JSON.parse(input.toString());
      } catch (err) {
        throw new HttpError(
          400,
          'SPROUT_ERR_FRAMEWORK_MALFORMED_BODY',
          `typed function input is not JSON: ${(err as Error).message}`,
        );
      }
    }
    const out = await fn(input);
    if (!res.headersSent) res.status(200).json(out ?? null);
  };
}
