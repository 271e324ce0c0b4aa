import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from './errors.js';
import {
  googleCloudEventToLegacy,
  googleLegacyToCloudEvent,
  pubsubPushToLegacy,
  textOf,
} from './google-events.js';

/** A CloudEvent (spec v1.0): required attributes, optional ones, extensions and data. */
export interface CloudEvent<T = unknown> {
  specversion: string;
  id: string;
  source: string;
  type: string;
  datacontenttype?: string;
  dataschema?: string;
  subject?: string;
  time?: string;
  data?: T;
  data_base64?: string;
  [extension: string]: unknown;
}

const REQUIRED = ['id', 'source', 'type', 'specversion'] as const;
const STRUCTURED = /^application\/cloudevents\+json\b/i;
const BATCH = /^application\/cloudevents-batch\+json\b/i;

function malformed(message: string): HttpError {
  return new HttpError(400, 'SPROUT_ERR_FRAMEWORK_MALFORMED_CLOUDEVENT', message);
}

/** True when the request carries a CloudEvent in binary or structured mode. */
export function isCloudEventRequest(headers: IncomingHttpHeaders): boolean {
  return headers['ce-specversion'] !== undefined || STRUCTURED.test(headers['content-type'] ?? '');
}

/**
 * Binary mode as Google's framework decides it: all of ce-specversion, ce-id, ce-source and
 * ce-type are present, whatever the content type (application/cloudevents+json included).
 */
function isBinaryMode(headers: IncomingHttpHeaders): boolean {
  return BINARY_HEADERS.every((h) => headers[h] !== undefined);
}
const BINARY_HEADERS = ['ce-specversion', 'ce-id', 'ce-source', 'ce-type'] as const;

/** The W3C `traceparent` header becomes the event's distributed-tracing extension when it has none. */
export function withTraceparent(event: CloudEvent, headers: IncomingHttpHeaders): CloudEvent {
  const tp = headers.traceparent;
  if (typeof tp === 'string' && tp && event.traceparent === undefined) event.traceparent = tp;
  return event;
}

function check(event: Record<string, unknown>): CloudEvent {
  for (const attr of REQUIRED) {
    const v = event[attr];
    if (typeof v !== 'string' || v === '') {
      throw malformed(`CloudEvent attribute "${attr}" is missing or not a non-empty string`);
    }
  }
  if (event.specversion !== '1.0' && event.specversion !== '0.3') {
    throw malformed(`CloudEvent specversion "${String(event.specversion)}" is not supported; use 1.0`);
  }
  return event as CloudEvent;
}

/**
 * Reads a CloudEvent from a request. Binary mode: attributes in `ce-*` headers, data is the body.
 * Structured mode: the whole event is the JSON body. `body` is what the body parser produced.
 */
export function readCloudEvent(headers: IncomingHttpHeaders, body: unknown): CloudEvent {
  return withTraceparent(readEvent(headers, body), headers);
}

function readEvent(headers: IncomingHttpHeaders, body: unknown): CloudEvent {
  const contentType = headers['content-type'] ?? '';
  if (BATCH.test(contentType))
    throw malformed('batched CloudEvents are not supported by a single function call');
  if (STRUCTURED.test(contentType) && !isBinaryMode(headers)) {
    return readStructuredCloudEvent(body, true);
  }
  if (headers['ce-specversion'] === undefined) {
    throw malformed(
      'not a CloudEvent: no ce-specversion header and content-type is not application/cloudevents+json',
    );
  }
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('ce-') && typeof value === 'string')
      event[name.slice(3)] = decodeURIComponentSafe(value);
  }
  // Content-Type is the data's type (HTTP binding); an explicit ce-datacontenttype header wins.
  if (contentType && event.datacontenttype === undefined) event.datacontenttype = contentType;
  if (body !== undefined && !(isEmptyObject(body) && !headers['content-length'])) event.data = body;
  return check(event);
}

/**
 * A structured-mode CloudEvent (the parsed JSON object): checked, `data_base64` read as bytes into
 * `data`. `copy: false` reads it in place (a bulk entry, which nothing else reads).
 */
export function readStructuredCloudEvent(body: unknown, copy: boolean): CloudEvent {
  if (!body || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw malformed('a structured-mode CloudEvent must be a JSON object');
  }
  const event = check(copy ? { ...(body as Record<string, unknown>) } : (body as Record<string, unknown>));
  if (event.data === undefined && typeof event.data_base64 === 'string') {
    event.data = Buffer.from(event.data_base64, 'base64');
    delete event.data_base64;
  }
  return event;
}

/** Sets binary-mode headers and returns the body for sending a CloudEvent. */
export function writeCloudEventHeaders(event: CloudEvent): {
  headers: Record<string, string>;
  body: unknown;
} {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event)) {
    if (k === 'data' || k === 'data_base64' || v === undefined) continue;
    if (k === 'datacontenttype') headers['content-type'] = String(v);
    else headers[`ce-${k}`] = encodeURIComponent(String(v));
  }
  headers['content-type'] ??= 'application/json';
  return { headers, body: event.data };
}

/** The legacy background-event context the `event` signature receives. */
export interface LegacyEventContext {
  eventId: string;
  timestamp: string;
  eventType: string;
  resource: unknown;
  [field: string]: unknown;
}

/**
 * A CloudEvent as a legacy `(data, context)` pair: Google sources as Google's framework converts
 * them (see google-events.ts); any other event's context is its attributes, as Google's and
 * OpenFunction's frameworks hand them over, plus the legacy names (`eventId`, `timestamp`,
 * `eventType`, `resource`) a background function reads.
 */
export function cloudEventToLegacy(event: CloudEvent): { data: unknown; context: LegacyEventContext } {
  const google = googleCloudEventToLegacy(event);
  if (google) return google;
  const { data, data_base64: _base64, ...attributes } = event;
  return {
    data,
    context: {
      ...attributes,
      eventId: event.id,
      timestamp: event.time === undefined ? new Date().toISOString() : textOf(event.time),
      eventType: event.type,
      resource: event.subject ? `${event.source}/${textOf(event.subject)}` : event.source,
    },
  };
}

/**
 * Reads a legacy background event body: `{context: {...}, data}` or the flat GCF shape
 * `{eventId, timestamp, eventType, resource, data}`.
 */
export function readLegacyEvent(body: unknown, path = '/'): { data: unknown; context: LegacyEventContext } {
  if (!body || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw new HttpError(400, 'SPROUT_ERR_FRAMEWORK_MALFORMED_BODY', 'an event must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const push = pubsubPushToLegacy(b, path);
  if (push) return push;
  const ctx = (b.context && typeof b.context === 'object' ? b.context : b) as Record<string, unknown>;
  const { data: _data, context: _context, ...rest } = ctx;
  return {
    data: b.data,
    context: {
      ...rest,
      eventId: textOf(ctx.eventId ?? ctx.id),
      timestamp: textOf(ctx.timestamp ?? ctx.time ?? new Date().toISOString()),
      eventType: textOf(ctx.eventType ?? ctx.type),
      resource: ctx.resource ?? ctx.source ?? '',
    },
  };
}

/**
 * A legacy event as a CloudEvent, for a cloudevent function that receives one: Google sources as
 * Google's framework converts them (`body` is the whole legacy body, whose `domain` the Firebase
 * Realtime Database mapping reads), any other with its fields mapped one to one.
 */
export function legacyToCloudEvent(
  legacy: { data: unknown; context: LegacyEventContext },
  body: Record<string, unknown> = {},
): CloudEvent {
  const google = googleLegacyToCloudEvent(legacy, body);
  if (google) return google;
  const { context } = legacy;
  const resource = context.resource as { name?: string; service?: string } | string;
  const source =
    typeof resource === 'string' ? resource : `${textOf(resource?.service)}/${textOf(resource?.name)}`;
  return {
    specversion: '1.0',
    id: context.eventId || 'unknown',
    source: source || 'unknown',
    type: context.eventType || 'unknown',
    time: context.timestamp,
    datacontenttype: 'application/json',
    data: legacy.data,
  };
}

function isEmptyObject(v: unknown): boolean {
  return !!v && typeof v === 'object' && !Buffer.isBuffer(v) && Object.keys(v).length === 0;
}

function decodeURIComponentSafe(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
