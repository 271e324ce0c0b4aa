import { isCloudEventRequest, legacyToCloudEvent, readCloudEvent, readLegacyEvent } from '../cloudevents.js';
import type { CloudEventFunction } from '../registry.js';
import { writeResult } from '../result.js';
import { callbackToPromise, type Invoker } from './invoker.js';

/** `cloudevent`: the event (binary or structured mode, or a converted legacy event); returns the response. */
export function cloudEventInvoker(fn: CloudEventFunction): Invoker {
  const callbackStyle = fn.length >= 2;
  return async (req, res) => {
    const event = isCloudEventRequest(req.headers)
      ? readCloudEvent(req.headers, req.body)
      : legacyToCloudEvent(readLegacyEvent(req.body));
    const value = callbackStyle ? await callbackToPromise((cb) => fn(event, cb)) : await fn(event);
    writeResult(res, value);
  };
}
