import { randomBytes, randomUUID } from 'node:crypto';
import type { Delivery, MessageMetadata } from '../broker.js';
import { TriggersError } from '../errors.js';

/** What is POSTed to the app for one delivery. */
export interface AppRequest {
  readonly body: Uint8Array;
  readonly headers: Record<string, string>;
  /** The CloudEvent's `id` (pub/sub), else the broker's id. */
  readonly id: string;
  /** True when the CloudEvent's `expiration` has passed: Dapr drops it unseen. */
  readonly expired: boolean;
  /** The CloudEvent as an object (pub/sub): what routing rules are matched against. */
  readonly event?: Record<string, unknown>;
}

const CLOUDEVENT_JSON = 'application/cloudevents+json';
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** RFC 7230 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Random bytes drawn 4 KiB at a time: one randomBytes call per message costs more than the rest of its envelope. */
let pool = Buffer.alloc(0);
let poolAt = 0;
function random(n: number): string {
  if (poolAt + n > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  poolAt += n;
  return pool.toString('hex', poolAt - n, poolAt);
}
const newTraceparent = () => `00-${random(16)}-${random(8)}-01`;

const validTrace = (t: unknown): string | undefined =>
  typeof t === 'string' && TRACEPARENT.test(t) ? t : undefined;

/** The bytes as UTF-8 text, read in place (no copy of the message). */
const utf8 = (b: Uint8Array): string =>
  (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString('utf8');

function traceHeaders(traceparent: unknown, tracestate: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof traceparent === 'string' && TRACEPARENT.test(traceparent)) out.traceparent = traceparent;
  if (typeof tracestate === 'string' && tracestate) out.tracestate = tracestate;
  return out;
}

/**
 * The CloudEvent daprd hands a subscriber for a message read from a pub/sub topic (Dapr's facts):
 * - with `rawPayload` the bytes were never wrapped: a new event is made around them, `id` a new
 *   UUID, `datacontenttype` `application/octet-stream`, `source` `Dapr`, `type`
 *   `com.dapr.event.sent`, `specversion` 1.0, `topic`, `pubsubname`, and the bytes as `data_base64`;
 * - otherwise the message is the CloudEvent JSON a Dapr publisher wrote: `topic` and `pubsubname` are
 *   set to where it was read, `source`/`type`/`specversion` filled when missing, and the trace
 *   (`traceparent`, the same as `traceid`) kept, else started. A message that is not a JSON object
 *   cannot be delivered this way: SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID.
 */
export function pubsubRequest(
  d: Delivery,
  pubsubname: string,
  rawPayload: boolean,
  now: number = Date.now(),
): AppRequest {
  let ce: Record<string, unknown>;
  if (rawPayload) {
    ce = {
      id: randomUUID(),
      specversion: '1.0',
      datacontenttype: 'application/octet-stream',
      source: 'Dapr',
      type: 'com.dapr.event.sent',
      topic: d.topic,
      pubsubname,
      data_base64: Buffer.from(d.data).toString('base64'),
    };
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8(d.data));
    } catch (err) {
      throw payloadInvalid(d, `not JSON (${(err as Error).message})`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw payloadInvalid(d, 'not a JSON object');
    ce = parsed as Record<string, unknown>;
    ce.topic = d.topic;
    ce.pubsubname = pubsubname;
    ce.source ??= 'Dapr';
    ce.type ??= 'com.dapr.event.sent';
    ce.specversion ??= '1.0';
  }
  const traceparent =
    validTrace(ce.traceparent) ??
    validTrace(ce.traceid) ??
    validTrace(d.metadata.traceparent) ??
    newTraceparent();
  ce.traceparent = traceparent;
  ce.traceid = traceparent;
  ce.tracestate ??= d.metadata.tracestate ?? '';
  const expiration = typeof ce.expiration === 'string' ? Date.parse(ce.expiration) : NaN;
  let body: Uint8Array | undefined;
  let headers: Record<string, string> | undefined;
  return {
    // Serialized only when POSTed alone: a bulk delivery serializes the whole batch once.
    get body() {
      return (body ??= Buffer.from(JSON.stringify(ce), 'utf8'));
    },
    get headers() {
      return (headers ??= { 'content-type': CLOUDEVENT_JSON, ...traceHeaders(traceparent, ce.tracestate) });
    },
    id: typeof ce.id === 'string' ? ce.id : d.id,
    expired: Number.isFinite(expiration) && expiration <= now,
    event: ce,
  };
}

/** One entry of a bulk delivery (Dapr's bulk subscribe), as daprd writes it. */
export interface BulkEntry {
  readonly entryId: string;
  /** The CloudEvent as an object, or (rawPayload) the message's bytes in base64. */
  readonly event: unknown;
  readonly contentType: string;
  readonly metadata: MessageMetadata;
}

/**
 * A pub/sub delivery as an entry of a bulk request, as daprd's bulk subscriber writes one: the
 * CloudEvent of `request` (`application/cloudevents+json`), or with `rawPayload` the bytes as they
 * were published, base64 (`application/octet-stream`); the broker's metadata beside it.
 */
export function bulkEntry(d: Delivery, request: AppRequest, rawPayload: boolean, entryId: string): BulkEntry {
  return rawPayload
    ? {
        entryId,
        event: Buffer.from(d.data).toString('base64'),
        contentType: 'application/octet-stream',
        metadata: d.metadata,
      }
    : { entryId, event: request.event, contentType: CLOUDEVENT_JSON, metadata: d.metadata };
}

/**
 * An input binding's event as daprd POSTs it to `/<binding name>`: the bytes as they are, the
 * binding's metadata as headers (names that are not HTTP tokens skipped), `content-type` from
 * the metadata, else `application/json`.
 */
export function bindingRequest(d: Delivery): AppRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata)) {
    if (HEADER_NAME.test(k) && !/[\r\n\0]/.test(v)) headers[k.toLowerCase()] = v;
  }
  headers['content-type'] ??= d.metadata.contentType ?? 'application/json';
  return { body: d.data, headers, id: d.id, expired: false };
}

function payloadInvalid(d: Delivery, why: string): TriggersError {
  return new TriggersError(
    'SPROUT_ERR_TRIGGERS_PAYLOAD_INVALID',
    `message ${d.id} on topic "${d.topic}" is ${why}: a Dapr subscriber gets a CloudEvent; publish through Dapr, or set rawPayload "true" on the subscription`,
  );
}
