import { HttpError } from './errors.js';
import { readStructuredCloudEvent } from './cloudevents.js';

/**
 * Dapr's bulk subscribe, the app's side: daprd (or Sprout's delivery engine) POSTs
 * `{id, type, topic, pubsubname, metadata, entries: [{entryId, event, contentType, metadata}]}` to a
 * subscription's route and the app answers `{statuses: [{entryId, status}]}`.
 */

/** What an async function advertises in `GET /dapr/subscribe` for each pub/sub input. */
export const BULK_SUBSCRIBE = {
  enabled: true,
  /** Dapr's default batch bound. */
  maxMessagesCount: 100,
  /**
   * How long daprd may wait to fill a batch. Dapr's default is 1000 ms, which a message published
   * alone would wait in full behind a real daprd; Sprout's delivery engine never waits (it sends
   * what the broker has ready).
   */
  maxAwaitDurationMs: 10,
} as const;

/** Entries of one bulk request handled at once; the rest wait for a free one. */
export const BULK_CONCURRENCY = BULK_SUBSCRIBE.maxMessagesCount;

/** One entry, read: its id and the data the function gets (or why it cannot get any). */
export type BulkItem =
  | { readonly entryId: string; readonly data: unknown }
  | { readonly entryId: string; readonly invalid: Error };

function malformed(message: string): HttpError {
  return new HttpError(400, 'SPROUT_ERR_FRAMEWORK_MALFORMED_BULK', `bulk subscribe request: ${message}`);
}

/** True when a (non-CloudEvent) JSON body is a bulk delivery: an object with `entries`. */
export function isBulkBody(body: unknown): body is Record<string, unknown> {
  return (
    body !== null &&
    typeof body === 'object' &&
    !Array.isArray(body) &&
    !Buffer.isBuffer(body) &&
    Object.prototype.hasOwnProperty.call(body, 'entries')
  );
}

/**
 * The entries of a bulk request. The envelope must hold: `entries` a list of objects, each with a
 * non-empty string `entryId` not used twice, and an `event` (else 400
 * SPROUT_ERR_FRAMEWORK_MALFORMED_BULK: without ids nothing can be answered per entry). An entry's
 * event is read as a single delivery's would be: an object is a CloudEvent (its `data`, or
 * `data_base64` as bytes), a string (rawPayload) the message's bytes in base64. An entry whose
 * event is not a valid CloudEvent is `invalid`: answered RETRY, the others still run.
 */
export function readBulkEntries(body: Record<string, unknown>): BulkItem[] {
  const entries = body.entries;
  if (!Array.isArray(entries)) throw malformed('"entries" must be a list');
  const seen = new Set<string>();
  return entries.map((e: unknown, i): BulkItem => {
    if (e === null || typeof e !== 'object' || Array.isArray(e))
      throw malformed(`entries[${i}] must be an object`);
    const { entryId, event } = e as { entryId?: unknown; event?: unknown };
    if (typeof entryId !== 'string' || entryId === '')
      throw malformed(`entries[${i}].entryId must be a non-empty string`);
    if (seen.has(entryId)) throw malformed(`entryId "${entryId}" appears twice`);
    seen.add(entryId);
    if (event === undefined || event === null) throw malformed(`entries[${i}].event is missing`);
    if (typeof event === 'string') return { entryId, data: Buffer.from(event, 'base64') };
    try {
      // As a single structured-mode delivery reads it (the entry's own object: read in place).
      return { entryId, data: readStructuredCloudEvent(event, false).data };
    } catch (err) {
      return { entryId, invalid: err as Error };
    }
  });
}

/** Runs `work` over `items`, at most `limit` at once; resolves with the results in order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
