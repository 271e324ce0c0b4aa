import {
  isCloudEventRequest,
  legacyToCloudEvent,
  readCloudEvent,
  readLegacyEvent,
  withTraceparent,
  type CloudEvent,
} from '../cloudevents.js';
import { pubsubPushToLegacy } from '../google-events.js';
import { HttpError } from '../errors.js';
import type { SproutRequest } from '../http/request.js';
import type { CloudEventFunction } from '../registry.js';
import { writeResult } from '../result.js';
import { callbackToPromise, type Invoker } from './invoker.js';

const STRUCTURED_HEADERS = { 'content-type': 'application/cloudevents+json' };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** A legacy background event: `{context: {...}, data}` or the flat `{eventId, eventType, ...}`. */
function isLegacyEvent(body: Record<string, unknown>): boolean {
  const ctx = isPlainObject(body.context) ? body.context : body;
  return ctx.eventId !== undefined || ctx.eventType !== undefined;
}

/**
 * The event of a request that is neither binary nor structured mode, as Google's functions
 * framework reads it: a JSON object carrying `specversion` is a structured-mode event sent as plain
 * JSON (checked like one), a legacy event or a Pub/Sub push body is converted, and any other JSON or form object is handed
 * over as the event unchanged (Google's framework answers these 200 too). A request with no body,
 * or a body that is not an object (text, bytes, an array), carries no event at all: 400.
 */
function readOtherEvent(req: SproutRequest): CloudEvent {
  const body = req.body;
  if (req.rawBody === undefined || req.rawBody.length === 0 || !isPlainObject(body)) {
    throw new HttpError(
      400,
      'SPROUT_ERR_FRAMEWORK_MALFORMED_CLOUDEVENT',
      `not a CloudEvent: ${req.rawBody?.length ? 'the body is not a JSON object' : 'the request has no body'}; send the ce-specversion, ce-id, ce-source and ce-type headers (binary mode) or a JSON event with content-type application/cloudevents+json (structured mode)`,
    );
  }
  if (body.specversion !== undefined) return readCloudEvent({ ...req.headers, ...STRUCTURED_HEADERS }, body);
  const push = pubsubPushToLegacy(body, req.url ?? '/');
  if (push) return withTraceparent(legacyToCloudEvent(push), req.headers);
  if (isLegacyEvent(body))
    return withTraceparent(legacyToCloudEvent(readLegacyEvent(body), body), req.headers);
  return withTraceparent(body as CloudEvent, req.headers);
}

/** `cloudevent`: the event (binary or structured mode, or a converted legacy event); returns the response. */
export function cloudEventInvoker(fn: CloudEventFunction): Invoker {
  const callbackStyle = fn.length >= 2;
  return async (req, res) => {
    const event = isCloudEventRequest(req.headers)
      ? readCloudEvent(req.headers, req.body)
      : readOtherEvent(req);
    const value = callbackStyle ? await callbackToPromise((cb) => fn(event, cb)) : await fn(event);
    writeResult(res, value);
  };
}
