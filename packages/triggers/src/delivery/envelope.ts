import { randomBytes, randomUUID } from 'node:crypto';
import type { Delivery } from '../broker.js';
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

/**
 * New W3C traceparents (version 00, sampled), written out 170 at a time from one randomBytes call
 * (4 KiB) and one hex encoding: a message's is one cut of that text (one randomBytes call, or one
 * hex encoding and the dashes put in, per message cost more than the rest of its envelope).
 */
const TRACEPARENT_LENGTH = 55;
const TRACEPARENTS_PER_FILL = 170;
let traceparents = '';
let traceparentAt = 0;
function newTraceparent(): string {
  if (traceparentAt === traceparents.length) {
    const hex = randomBytes(24 * TRACEPARENTS_PER_FILL).toString('hex');
    const out: string[] = [];
    for (let i = 0; i < hex.length; i += 48)
      out.push(`00-${hex.slice(i, i + 32)}-${hex.slice(i + 32, i + 48)}-01`);
    traceparents = out.join('');
    traceparentAt = 0;
  }
  traceparentAt += TRACEPARENT_LENGTH;
  return traceparents.slice(traceparentAt - TRACEPARENT_LENGTH, traceparentAt);
}

/** `JSON.stringify(value)` of the last few strings quoted (a trigger's topic and pub/sub name). */
const quotedCache = new Map<string, string>();
function quoted(value: string): string {
  let q = quotedCache.get(value);
  if (q === undefined) {
    if (quotedCache.size >= 64) quotedCache.clear();
    quotedCache.set(value, (q = JSON.stringify(value)));
  }
  return q;
}

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
): AppRequest & {
  readonly event: Record<string, unknown>;
  readonly json: string;
  splice(): EventSplice | undefined;
} {
  if (rawPayload) {
    const ce: Record<string, unknown> = {
      id: randomUUID(),
      specversion: '1.0',
      datacontenttype: 'application/octet-stream',
      source: 'Dapr',
      type: 'com.dapr.event.sent',
      topic: d.topic,
      pubsubname,
      data_base64: Buffer.from(d.data).toString('base64'),
    };
    const traceparent = validTrace(d.metadata.traceparent) ?? newTraceparent();
    ce.traceparent = traceparent;
    ce.traceid = traceparent;
    ce.tracestate = d.metadata.tracestate ?? '';
    return new CloudEventRequest(ce, d.id, traceparent, ce.tracestate, false);
  }
  const text = utf8(d.data);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw payloadInvalid(d, `not JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw payloadInvalid(d, 'not a JSON object');
  const ce = parsed as Record<string, unknown>;
  const traceparent =
    validTrace(ce.traceparent) ??
    validTrace(ce.traceid) ??
    validTrace(d.metadata.traceparent) ??
    newTraceparent();
  // What daprd sets or fills, appended to the publisher's own text (and bytes) when none of it is
  // there with another value (the usual case): the event is then never written out again member by
  // member, and the parsed object is only completed when something reads it (a routing rule).
  const tail = new Tail(ce);
  const tracestate = tail.setAll(d.topic, pubsubname, traceparent, d.metadata.tracestate ?? '');
  const expiration = typeof ce.expiration === 'string' ? Date.parse(ce.expiration) : NaN;
  return new CloudEventRequest(
    ce,
    d.id,
    traceparent,
    tracestate,
    Number.isFinite(expiration) && expiration <= now,
    tail,
    text,
    d.data,
  );
}

/**
 * The members daprd sets on a parsed CloudEvent, kept aside (as which of them to assign, and as
 * JSON text to append to the publisher's) until the event object itself is asked for.
 */
class Tail {
  /** Every member keeps its value (or is new): the publisher's JSON plus `members` is the event. */
  clean = true;
  readonly empty: boolean;
  /** Which members of MEMBERS are to be assigned (bit i: MEMBERS[i]), with their values below. */
  private added = 0;
  private text: string | undefined;
  private topic = '';
  private pubsubname = '';
  private traceparent = '';
  private tracestate = '';

  constructor(private readonly ce: Record<string, unknown>) {
    let empty = true;
    for (const _ in ce) {
      empty = false;
      break;
    }
    this.empty = empty;
  }

  /**
   * daprd's members: `topic`, `pubsubname`, `traceparent` and `traceid` set, `source`, `type`,
   * `specversion` and `tracestate` filled when missing (`ce[key] ??= value`). Returns the event's
   * `tracestate` after.
   */
  setAll(topic: string, pubsubname: string, traceparent: string, tracestate: string): unknown {
    const ce = this.ce;
    this.topic = topic;
    this.pubsubname = pubsubname;
    this.traceparent = traceparent;
    this.tracestate = tracestate;
    this.set(0, ce.topic, topic);
    this.set(1, ce.pubsubname, pubsubname);
    this.fill(2, ce.source);
    this.fill(3, ce.type);
    this.fill(4, ce.specversion);
    this.set(5, ce.traceparent, traceparent);
    this.set(6, ce.traceid, traceparent);
    const had = ce.tracestate;
    this.fill(7, had);
    return had !== undefined && had !== null ? had : tracestate;
  }

  private set(bit: number, had: unknown, value: string): void {
    if (had === value) return;
    if (had !== undefined) this.clean = false;
    this.added |= 1 << bit;
  }

  private fill(bit: number, had: unknown): void {
    if (had !== undefined && had !== null) return;
    if (had === null) this.clean = false;
    this.added |= 1 << bit;
  }

  /** The value member `bit` is given. */
  private value(bit: number): string {
    switch (bit) {
      case 0:
        return this.topic;
      case 1:
        return this.pubsubname;
      case 5:
      case 6:
        return this.traceparent;
      case 7:
        return this.tracestate;
      default:
        return DEFAULTS[bit]!;
    }
  }

  /** The members assigned to the parsed event (once). */
  apply(): Record<string, unknown> {
    const { ce, added } = this;
    for (let bit = 0; bit < MEMBERS.length; bit++)
      if (added & (1 << bit)) ce[MEMBERS[bit]!] = this.value(bit);
    // `added` is kept: `members` may still be asked for (the event written out after it is read)
    return ce;
  }

  /** The members as text to put before the publisher's closing brace (without the comma when it was `{}`). */
  get members(): string {
    if (this.text === undefined) {
      const { added } = this;
      let text: string;
      if (added === USUAL) {
        // The usual publisher's event: it has source, type and specversion, no trace, no tracestate.
        const tp = this.traceparent;
        text = `${usualHead(this.topic, this.pubsubname)}${tp}","traceid":"${tp}","tracestate":${this.tracestate === '' ? '""' : JSON.stringify(this.tracestate)}`;
      } else {
        text = '';
        for (let bit = 0; bit < MEMBERS.length; bit++)
          if (added & (1 << bit)) text += `,"${MEMBERS[bit]}":${JSON.stringify(this.value(bit))}`;
      }
      this.text = this.empty ? text.slice(1) : text;
    }
    return this.text;
  }
}

/** The members daprd sets or fills, in the order it assigns them; DEFAULTS are the filled ones' values. */
const MEMBERS = [
  'topic',
  'pubsubname',
  'source',
  'type',
  'specversion',
  'traceparent',
  'traceid',
  'tracestate',
];
const DEFAULTS: readonly (string | undefined)[] = [
  undefined,
  undefined,
  'Dapr',
  'com.dapr.event.sent',
  '1.0',
];
/** topic, pubsubname, traceparent, traceid and tracestate added; source, type and specversion kept. */
const USUAL = 0b11100011;

/** The usual members up to the traceparent's value, for the last topic and pub/sub name asked (a trigger's). */
let usual = { topic: '', pubsubname: '', head: '' };
function usualHead(topic: string, pubsubname: string): string {
  if (usual.topic !== topic || usual.pubsubname !== pubsubname)
    usual = {
      topic,
      pubsubname,
      head: `,"topic":${quoted(topic)},"pubsubname":${quoted(pubsubname)},"traceparent":"`,
    };
  return usual.head;
}

/** A clean event's bytes: the publisher's up to its closing brace (`end`), then `tail` (daprd's members and `}`). */
export interface EventSplice {
  readonly bytes: Uint8Array;
  readonly end: number;
  readonly tail: string;
}

const CLOSE_BRACE = 0x7d;

/** A pub/sub delivery's request: the CloudEvent, its JSON and the single-delivery body made when first read. */
class CloudEventRequest implements AppRequest {
  #json: string | undefined;
  #body: Uint8Array | undefined;
  #headers: Record<string, string> | undefined;
  #event: Record<string, unknown>;
  #tail: Tail | undefined;
  readonly id: string;

  constructor(
    event: Record<string, unknown>,
    brokerId: string,
    private readonly traceparent: string,
    private readonly tracestate: unknown,
    readonly expired: boolean,
    tail?: Tail,
    private readonly text?: string,
    private readonly bytes?: Uint8Array,
  ) {
    this.id = typeof event.id === 'string' ? event.id : brokerId;
    this.#event = event;
    this.#tail = tail;
  }

  /** The CloudEvent as an object, daprd's members set (what routing rules read). */
  get event(): Record<string, unknown> {
    const tail = this.#tail;
    if (tail) {
      this.#tail = undefined;
      this.#event = tail.apply();
      if (tail.clean && this.text !== undefined) this.#json ??= spliceText(this.text, tail.members);
    }
    return this.#event;
  }

  /** The CloudEvent as JSON text (what a single delivery POSTs). */
  get json(): string {
    if (this.#json === undefined) {
      const tail = this.#tail;
      this.#json =
        tail?.clean && this.text !== undefined
          ? spliceText(this.text, tail.members)
          : JSON.stringify(this.event);
    }
    return this.#json;
  }

  /**
   * The event as the publisher's bytes with daprd's members put before its closing brace, when
   * none of them was there with another value (a bulk entry then copies the broker's bytes as they
   * are, never decoding or encoding them again); undefined otherwise (`json` is the event).
   */
  splice(): EventSplice | undefined {
    const tail = this.#tail;
    const bytes = this.bytes;
    // Bytes that were not valid UTF-8 were read with U+FFFD in their place: send that text instead.
    if (!tail?.clean || !bytes || this.text?.includes('\uFFFD')) return undefined;
    // The whole bytes and where to cut them (no view made per message).
    return { bytes, end: bytes.lastIndexOf(CLOSE_BRACE), tail: `${tail.members}}` };
  }

  /** Serialized only when POSTed alone: a bulk delivery writes the whole batch once. */
  get body(): Uint8Array {
    return (this.#body ??= Buffer.from(this.json, 'utf8'));
  }

  get headers(): Record<string, string> {
    return (this.#headers ??= {
      'content-type': CLOUDEVENT_JSON,
      ...traceHeaders(this.traceparent, this.tracestate),
    });
  }
}

/** The publisher's JSON object text with `members` put before its closing brace. */
const spliceText = (text: string, members: string): string =>
  members ? `${text.slice(0, text.lastIndexOf('}'))}${members}}` : text;

/** A bulk entry's JSON in three parts: `head`, the event's own bytes before `end` (when spliced), `tail`. */
export interface BulkEntryParts {
  readonly head: string;
  readonly bytes: Uint8Array | undefined;
  readonly end: number;
  readonly tail: string;
}

const DIGITS = /^[0-9]+$/;
/** A bulk entry's members after a CloudEvent without metadata. */
const CLOUDEVENT_TAIL = `,"contentType":"${CLOUDEVENT_JSON}","metadata":{}}`;

/**
 * A pub/sub delivery as an entry of a bulk request, in JSON, as daprd's bulk subscriber writes one:
 * the CloudEvent of `request` (`application/cloudevents+json`), or with `rawPayload` the bytes as
 * they were published, base64 (`application/octet-stream`); the broker's metadata beside it. The
 * event is the broker's bytes in place when `request` can splice them (`EventSplice`).
 */
export function bulkEntryParts(
  d: Delivery,
  request: { readonly json: string; splice?(): EventSplice | undefined },
  rawPayload: boolean,
  entryId: string,
): BulkEntryParts {
  let metadata = '{}';
  for (const _ in d.metadata) {
    metadata = JSON.stringify(d.metadata);
    break;
  }
  // An id of digits only (the BulkSender's) needs no escaping.
  const head = `{"entryId":${DIGITS.test(entryId) ? `"${entryId}"` : JSON.stringify(entryId)},"event":`;
  if (rawPayload)
    return {
      head: `${head}"${Buffer.from(d.data).toString('base64')}"`,
      bytes: undefined,
      end: 0,
      tail: `,"contentType":"application/octet-stream","metadata":${metadata}}`,
    };
  const tail =
    metadata === '{}' ? CLOUDEVENT_TAIL : `,"contentType":"${CLOUDEVENT_JSON}","metadata":${metadata}}`;
  const spliced = request.splice?.();
  return spliced
    ? { head, bytes: spliced.bytes, end: spliced.end, tail: `${spliced.tail}${tail}` }
    : { head: `${head}${request.json}`, bytes: undefined, end: 0, tail };
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
