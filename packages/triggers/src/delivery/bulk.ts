import { randomUUID } from 'node:crypto';
import type { Agent } from 'node:http';
import type { Delivery } from '../broker.js';
import { postToApp, type Outcome } from './callback.js';
import { bulkEntryParts, type BulkEntryParts, type EventSplice } from './envelope.js';

/** A bulk subscription's settings, in Dapr's words (Subscription `spec.bulkSubscribe`, `/dapr/subscribe`). */
export interface BulkSubscribe {
  readonly enabled: boolean;
  /** Most entries in one request (Dapr's default 100). */
  readonly maxMessagesCount?: number;
  /**
   * How long daprd waits to fill a batch (default 1000 ms). Read and not used: Sprout sends what
   * the broker has ready at once, so a message is never held back waiting for others.
   */
  readonly maxAwaitDurationMs?: number;
}

/** Dapr's default `maxMessagesCount`. */
const DEFAULT_BULK_MAX_MESSAGES = 100;
/** Dapr's bulk envelope `type`. */
const BULK_EVENT_TYPE = 'com.dapr.event.sent.bulk';
/** A bulk answer lists one status per entry: allow far more than the 64 KiB of a single answer. */
const MAX_BULK_ANSWER_BYTES = 4 * 1024 * 1024;

const SUCCESS: Outcome = { kind: 'success' };

/** `statuses[i]` is `{entryId: this[i], status: "SUCCESS"}` (an `every` callback, `this` the entry ids). */
function succeeded(this: readonly string[], s: unknown, i: number): boolean {
  const o = s as { entryId?: unknown; status?: unknown } | null;
  return o !== null && typeof o === 'object' && o.entryId === this[i] && o.status === 'SUCCESS';
}

/** `maxMessagesCount` of a bulk subscription that is enabled (read leniently), else undefined. */
export function bulkMaxMessages(bulk: unknown): number | undefined {
  if (!bulk || typeof bulk !== 'object' || (bulk as BulkSubscribe).enabled !== true) return undefined;
  const n = (bulk as BulkSubscribe).maxMessagesCount;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : DEFAULT_BULK_MAX_MESSAGES;
}

/**
 * The app's answer to a bulk request, per entry, as daprd reads it: a 2xx whose JSON body is
 * `{statuses: [{entryId, status}]}` settles each entry by its status (`SUCCESS` success, `DROP`
 * dropped, `RETRY`, an empty or unknown status, or no status for the entry: a failed attempt);
 * a 2xx body that is not such JSON fails every entry; 404 drops every entry (no such route); any
 * other status fails every entry.
 */
export function readBulkAnswer(status: number, text: string, entryIds: readonly string[]): Outcome[] {
  const all = (o: Outcome) => entryIds.map(() => o);
  if (status === 404) return all({ kind: 'drop', reason: 'bulk delivery: 404, the app has no such route' });
  if (status < 200 || status > 299) return all({ kind: 'retry', reason: `bulk delivery: status ${status}` });
  let statuses: unknown;
  try {
    statuses = (JSON.parse(text) as { statuses?: unknown } | null)?.statuses;
  } catch {
    statuses = undefined;
  }
  if (!Array.isArray(statuses))
    return all({ kind: 'retry', reason: 'bulk delivery: the answer is not JSON {"statuses": [...]}' });
  // The usual answer: every entry SUCCESS, in the order sent (one shared outcome, no lookup table).
  if (statuses.length === entryIds.length && statuses.every(succeeded, entryIds)) return all(SUCCESS);
  const byId = new Map<string, { status?: unknown; error?: { code?: unknown } }>();
  for (const s of statuses as unknown[]) {
    const o = s as { entryId?: unknown; status?: unknown; error?: { code?: unknown } } | null;
    if (o && typeof o === 'object' && typeof o.entryId === 'string' && !byId.has(o.entryId))
      byId.set(o.entryId, o);
  }
  return entryIds.map((id): Outcome => {
    if (!byId.has(id))
      return { kind: 'retry', reason: `bulk delivery: the app answered no status for entry ${id}` };
    const { status: raw, error } = byId.get(id)!;
    const s = typeof raw === 'string' ? raw.toUpperCase() : raw;
    // Sprout's framework says why an entry failed (its error code); daprd ignores the field.
    const why = typeof error?.code === 'string' ? ` (${error.code.slice(0, 100)})` : '';
    if (s === 'SUCCESS') return { kind: 'success' };
    if (s === 'DROP') return { kind: 'drop', reason: 'the app answered status DROP' };
    if (s === 'RETRY') return { kind: 'retry', reason: `the app answered status RETRY${why}` };
    return {
      kind: 'retry',
      reason: `the app answered status ${JSON.stringify(raw ?? null)} for entry ${id}`,
    };
  });
}

interface Waiting {
  readonly entryId: string;
  /** The entry's JSON in parts (`bulkEntryParts`): the request body is these joined, never an object tree. */
  readonly parts: BulkEntryParts;
  readonly settle: Settle;
  readonly token: unknown;
}

/** Told an entry's outcome, with the token it was added with (one function for all, no closure per entry). */
export type Settle = (outcome: Outcome, token: unknown) => void;

/** What a delivery's request gives a bulk entry: its JSON, or its bytes spliced (`EventSplice`). */
export type EntryRequest = { readonly json: string; splice?(): EventSplice | undefined };

export interface BulkSenderOptions {
  readonly pubsubname: string;
  readonly topic: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly agent: Agent;
  /** Called once per bulk answer, after every entry of it was settled. */
  readonly answered?: () => void;
}

/**
 * Gathers one trigger's pub/sub deliveries into bulk requests (Dapr's bulk subscribe). Unlike
 * daprd, which waits up to `maxAwaitDurationMs` to fill a batch, a batch is sent as soon as the
 * deliveries taken together are ready (the end of the current turn of the event loop) or it holds
 * `maxMessagesCount`: at a low rate each message goes alone, as fast as a single delivery.
 * Each delivery gets its own outcome, so retries, drops and dead letters stay per message.
 */
export class BulkSender {
  /** Open batches by URL (a routing rule may send entries of one trigger to different paths). */
  private readonly open = new Map<string, Waiting[]>();
  private scheduled = false;
  private seq = 0;

  /** The envelope's members after `id`, the same for every request. */
  private readonly head: string;

  constructor(private readonly options: BulkSenderOptions) {
    const { pubsubname, topic } = options;
    const head = JSON.stringify({
      type: BULK_EVENT_TYPE,
      topic,
      pubsubname,
      metadata: { pubsubName: pubsubname },
    });
    this.head = `${head.slice(1, -1)},`;
  }

  /** Adds the delivery to the batch for `url`; resolves with its outcome (never rejects). */
  submit(
    url: string,
    d: Delivery,
    request: EntryRequest,
    rawPayload: boolean,
    maxMessages: number,
  ): Promise<Outcome> {
    return new Promise<Outcome>((resolve) =>
      this.add(url, d, request, rawPayload, maxMessages, resolve, undefined),
    );
  }

  /**
   * `submit` without a promise: `settle(outcome, token)` once the batch is answered (then
   * `answered()`, once for the whole batch).
   */
  add(
    url: string,
    d: Delivery,
    request: EntryRequest,
    rawPayload: boolean,
    maxMessages: number,
    settle: Settle,
    token: unknown,
  ): void {
    const entryId = String(++this.seq);
    const parts = bulkEntryParts(d, request, rawPayload, entryId);
    let batch = this.open.get(url);
    if (!batch) this.open.set(url, (batch = []));
    batch.push({ entryId, parts, settle, token });
    if (batch.length >= maxMessages) {
      this.open.delete(url);
      void this.send(url, batch);
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.open];
    this.open.clear();
    for (const [url, batch] of batches) void this.send(url, batch);
  }

  /**
   * Daprd's envelope (id, type, topic, pubsubname, metadata, entries) written around the entries'
   * parts straight into one buffer: the events go out as the broker's bytes with daprd's members
   * appended, never decoded and encoded again.
   */
  private body(batch: readonly Waiting[]): Buffer {
    const open = `{"id":"${randomUUID()}",${this.head}"entries":[`;
    // UTF-8 takes at most 3 bytes a UTF-16 unit: room enough, cut to what was written.
    let room = open.length * 3 + batch.length + 2;
    for (const { parts } of batch)
      room += (parts.head.length + parts.tail.length) * 3 + (parts.bytes?.byteLength ?? 0);
    const body = Buffer.allocUnsafe(room);
    // The text between two entries' bytes (a tail, the comma, the next head) written at once.
    let text = open;
    let at = 0;
    for (let i = 0; i < batch.length; i++) {
      const { head, bytes, end, tail } = batch[i]!.parts;
      text = i > 0 ? `${text},${head}` : `${text}${head}`;
      if (bytes) {
        at += body.write(text, at, 'utf8');
        // The whole event copied, then cut before its closing brace: the text goes on from there.
        body.set(bytes, at);
        at += end;
        text = tail;
      } else text = `${text}${tail}`;
    }
    at += body.write(`${text}]}`, at, 'utf8');
    return body.subarray(0, at);
  }

  private async send(url: string, batch: Waiting[]): Promise<void> {
    const ids = batch.map((w) => w.entryId);
    let outcomes: Outcome[];
    try {
      const { timeoutMs, signal, agent } = this.options;
      const body = this.body(batch);
      const res = await postToApp(
        url,
        { body, headers: { 'content-type': 'application/json' } },
        timeoutMs,
        signal,
        agent,
        MAX_BULK_ANSWER_BYTES,
      );
      outcomes = readBulkAnswer(res.status, res.text, ids);
    } catch (err) {
      const failed: Outcome = { kind: 'retry', reason: `POST ${url} (bulk): ${(err as Error).message}` };
      outcomes = ids.map(() => failed);
    }
    for (let i = 0; i < batch.length; i++) batch[i]!.settle(outcomes[i]!, batch[i]!.token);
    this.options.answered?.();
  }
}
