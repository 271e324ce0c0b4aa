import { cloudEventToLegacy, isCloudEventRequest, readCloudEvent, readLegacyEvent } from '../cloudevents.js';
import type { EventFunction } from '../registry.js';
import { writeResult } from '../result.js';
import { callbackToPromise, type Invoker } from './invoker.js';

/** `event`: a legacy background function `(data, context[, callback])`; CloudEvents are converted. */
export function eventInvoker(fn: EventFunction): Invoker {
  const callbackStyle = fn.length >= 3;
  return async (req, res) => {
    const { data, context } = isCloudEventRequest(req.headers)
      ? cloudEventToLegacy(readCloudEvent(req.headers, req.body))
      : readLegacyEvent(req.body, req.url);
    const value = callbackStyle
      ? await callbackToPromise((cb) => fn(data, context, cb))
      : await fn(data, context);
    writeResult(res, value);
  };
}
