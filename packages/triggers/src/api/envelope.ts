import { randomBytes, randomUUID } from 'node:crypto';
import { TriggersError } from '../errors.js';

/**
 * The CloudEvent envelope daprd puts around a published payload (Dapr's facts, our code):
 * - `application/cloudevents+json`: the body is already a CloudEvent; it is kept, with `topic` and
 *   `pubsubname` set, `time`, `traceid`/`traceparent`, `tracestate`, `source`, `type` and
 *   `specversion` filled where missing.
 * - otherwise a new envelope: `id` (a UUID), `source` (the app id), `type` `com.dapr.event.sent`,
 *   `specversion` 1.0, `datacontenttype` (default `text/plain`), `topic`, `pubsubname`, `time`,
 *   `traceid` = `traceparent`, `tracestate`; the payload goes in `data` (parsed for
 *   `application/json`, kept as text when it does not parse; a string for other types) or in
 *   `data_base64` for `application/octet-stream`.
 * - metadata `cloudevent.id|source|type|subject|traceid|traceparent|tracestate` override those fields
 *   of a new envelope (keys case-insensitive); `ttlInSeconds` adds `expiration`.
 */

export interface EnvelopeContext {
  readonly appId: string;
  readonly pubsub: string;
  readonly topic: string;
  /** The request's `traceparent` header, if any: the envelope's trace continues it. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Now, for `time` and `expiration` (default: the clock). */
  readonly now?: Date;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A producer span's traceparent: the caller's trace (a new one without a valid header), a new span id. */
export function childTraceparent(parent: string | undefined): string {
  const m = parent ? TRACEPARENT.exec(parent.trim().toLowerCase()) : null;
  const trace = m && m[2] !== '0'.repeat(32) ? m[2]! : randomBytes(16).toString('hex');
  const flags = m ? m[4]! : '01';
  return `00-${trace}-${randomBytes(8).toString('hex')}-${flags}`;
}

/** Media type without parameters, lower case. */
function mediaType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

const isJson = (ct: string) => mediaType(ct) === 'application/json';
const isCloudEvent = (ct: string) => mediaType(ct) === 'application/cloudevents+json';
const isBinary = (ct: string) => mediaType(ct) === 'application/octet-stream';
const isText = (ct: string) => mediaType(ct).startsWith('text/') || mediaType(ct) === 'application/xml';

/** RFC 3339 to the second, with the local offset as Go's time.RFC3339 writes it in UTC: `Z`. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `metadata.cloudevent.*` overrides, keys lower-cased. */
function overrides(metadata: Readonly<Record<string, string>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(metadata)) {
    const key = k.toLowerCase();
    if (key.startsWith('cloudevent.') && v !== '') out.set(key.slice(11), v);
  }
  return out;
}

/** `ttlInSeconds` (or Dapr's `ttl` duration) as milliseconds; undefined when unset or not valid. */
function ttlMs(metadata: Readonly<Record<string, string>>): number | undefined {
  for (const [k, v] of Object.entries(metadata)) {
    if (k.toLowerCase() !== 'ttlinseconds') continue;
    const n = Number(v);
    return Number.isInteger(n) && n > 0 ? n * 1000 : undefined;
  }
  return undefined;
}

function invalid(message: string): TriggersError {
  return new TriggersError('SPROUT_ERR_TRIGGERS_REQUEST_INVALID', message);
}

/** The envelope (as an object) daprd would publish for `body` sent with `contentType`. */
export function envelopeOf(
  body: Uint8Array,
  contentType: string,
  ctx: EnvelopeContext,
): Record<string, unknown> {
  const now = ctx.now ?? new Date();
  const trace = childTraceparent(ctx.traceparent);
  const tracestate = ctx.tracestate ?? '';
  let ce: Record<string, unknown>;
  if (isCloudEvent(contentType)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch (err) {
      throw invalid(
        `the body is typed application/cloudevents+json but is not JSON: ${(err as Error).message}`,
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw invalid('the body is typed application/cloudevents+json but is not a JSON object');
    ce = parsed as Record<string, unknown>;
    ce.time ??= rfc3339(now);
    if (!('traceid' in ce)) {
      ce.traceid = trace;
      ce.traceparent = trace;
    }
    if (!('tracestate' in ce)) ce.tracestate = tracestate;
    ce.topic = ctx.topic;
    ce.pubsubname = ctx.pubsub;
    ce.source ??= 'Dapr';
    ce.type ??= 'com.dapr.event.sent';
    ce.specversion ??= '1.0';
  } else {
    const o = overrides(ctx.metadata);
    const dataContentType = contentType || 'text/plain';
    const traceid = o.get('traceparent') ?? o.get('traceid') ?? trace;
    ce = {
      id: o.get('id') ?? randomUUID(),
      specversion: '1.0',
      datacontenttype: dataContentType,
      source: o.get('source') ?? (ctx.appId || 'Dapr'),
      type: o.get('type') ?? 'com.dapr.event.sent',
      topic: ctx.topic,
      pubsubname: ctx.pubsub,
      traceid,
      traceparent: traceid,
      tracestate: o.get('tracestate') ?? tracestate,
      time: rfc3339(now),
    };
    const text = Buffer.from(body).toString('utf8');
    if (isJson(dataContentType)) {
      try {
        ce.data = JSON.parse(text);
      } catch {
        ce.data = text;
      }
    } else if (isBinary(dataContentType)) ce.data_base64 = Buffer.from(body).toString('base64');
    else ce.data = text;
    if (o.has('subject')) ce.subject = o.get('subject');
  }
  const ttl = ttlMs(ctx.metadata);
  if (ttl !== undefined) ce.expiration = rfc3339(new Date(now.getTime() + ttl));
  return ce;
}

/** Dapr's `rawPayload` metadata: unset or empty is false; anything but a Go boolean is refused. */
export function isRawPayload(metadata: Readonly<Record<string, string>>): boolean {
  const v = metadata.rawPayload;
  if (v === undefined || v === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw invalid(`metadata.rawPayload value must be a valid boolean: actual is '${v}'`);
}

/**
 * One bulk-publish entry's `event` as the bytes to publish, read by its `contentType` as daprd
 * reads it: octet-stream takes a base64 string, text/* and application/xml a string, JSON and
 * CloudEvent JSON any JSON value; any other type (or none) is refused.
 */
export function entryBytes(event: unknown, contentType: string): Uint8Array {
  if (isBinary(contentType)) {
    if (typeof event !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(event) || event.length % 4 !== 0)
      throw invalid('an application/octet-stream event must be a base64 string');
    return Buffer.from(event, 'base64');
  }
  if (isText(contentType)) {
    if (typeof event !== 'string') throw invalid(`a ${contentType} event must be a string`);
    return Buffer.from(event, 'utf8');
  }
  if (isJson(contentType) || isCloudEvent(contentType))
    return Buffer.from(JSON.stringify(event ?? null), 'utf8');
  throw invalid(
    `contentType ${JSON.stringify(contentType)} does not say how to read the event ` +
      '(application/json, application/cloudevents+json, text/*, application/xml or application/octet-stream)',
  );
}
