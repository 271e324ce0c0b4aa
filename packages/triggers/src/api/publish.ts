import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PubSubEngine } from '../broker.js';
import { isTriggersError } from '../errors.js';
import { entryBytes, envelopeOf, isRawPayload, type EnvelopeContext } from './envelope.js';
import { DaprApiError, queryMetadata, readRequestBody } from './respond.js';

/** What a publish route needs from the server. */
export interface PublishScope {
  readonly appId: string;
  readonly maxBody: number;
  /** The engine of a pub/sub component, or a DaprApiError in Dapr's terms. */
  pubsub(name: string): PubSubEngine;
  /** After each message the broker accepted (events, metrics). */
  onPublished?(pubsub: string, topic: string, bytes: number): void;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};

/** Dapr's ERR_PUBSUB_REQUEST_METADATA for a rawPayload that is not a boolean. */
function rawPayloadOf(metadata: Record<string, string>): boolean {
  try {
    return isRawPayload(metadata);
  } catch (err) {
    throw new DaprApiError(
      'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
      'ERR_PUBSUB_REQUEST_METADATA',
      400,
      `failed deserializing metadata: ${(err as Error).message}`,
      { field: 'metadata.rawPayload' },
    );
  }
}

function publishFailed(pubsub: string, topic: string, err: unknown): DaprApiError {
  return new DaprApiError(
    isTriggersError(err) ? err.code : 'SPROUT_ERR_TRIGGERS_PUBLISH_FAILED',
    'ERR_PUBSUB_PUBLISH_MESSAGE',
    500,
    `error when publishing to topic ${topic} in pubsub ${pubsub}: ${(err as Error).message}`,
    { cause: err },
  );
}

/** What both publish routes read first: the engine, `metadata.*`, rawPayload and the body. */
async function readPublish(scope: PublishScope, req: IncomingMessage, url: URL, pubsubName: string) {
  const engine = scope.pubsub(pubsubName);
  const metadata = queryMetadata(url);
  const raw = rawPayloadOf(metadata);
  const body = await readRequestBody(req, scope.maxBody);
  return { engine, metadata, raw, body };
}

function envelopeContext(
  scope: PublishScope,
  req: IncomingMessage,
  pubsub: string,
  topic: string,
  metadata: Record<string, string>,
): EnvelopeContext {
  return {
    appId: scope.appId,
    pubsub,
    topic,
    traceparent: header(req, 'traceparent'),
    tracestate: header(req, 'tracestate'),
    metadata,
  };
}

/**
 * POST /v1.0/publish/{pubsub}/{topic}: the body wrapped in Dapr's CloudEvent envelope (or passed
 * as it is with `metadata.rawPayload=true`), published with the request's `metadata.*`; 204.
 */
export async function publishOne(
  scope: PublishScope,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  pubsubName: string,
  topic: string,
): Promise<void> {
  const { engine, metadata, raw, body } = await readPublish(scope, req, url, pubsubName);
  let data: Uint8Array = body;
  if (!raw) {
    const ctx = envelopeContext(scope, req, pubsubName, topic, metadata);
    let ce: Record<string, unknown>;
    try {
      ce = envelopeOf(body, header(req, 'content-type') ?? '', ctx);
    } catch (err) {
      throw new DaprApiError(
        'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
        'ERR_PUBSUB_CLOUD_EVENTS_SER',
        400,
        `cannot create cloudevent: ${(err as Error).message}`,
      );
    }
    data = Buffer.from(JSON.stringify(ce), 'utf8');
  }
  try {
    await engine.publish(topic, data, metadata);
  } catch (err) {
    throw publishFailed(pubsubName, topic, err);
  }
  scope.onPublished?.(pubsubName, topic, data.byteLength);
  res.writeHead(204).end();
}

interface BulkEntry {
  entryId: string;
  data: Uint8Array;
  metadata: Record<string, string>;
}

/** Go's JSON decoding matches field names case-insensitively; so does this. */
function field(o: Record<string, unknown>, name: string): unknown {
  for (const [k, v] of Object.entries(o)) if (k.toLowerCase() === name.toLowerCase()) return v;
  return undefined;
}

function eventsError(
  pubsub: string,
  topic: string,
  why: string,
  reason = 'ERR_PUBSUB_EVENTS_SER',
): DaprApiError {
  return new DaprApiError(
    'SPROUT_ERR_TRIGGERS_REQUEST_INVALID',
    reason,
    400,
    `error when reading the bulk publish request for topic ${topic} pubsub ${pubsub}: ${why}`,
  );
}

/** The bulk request's entries, each checked and turned into the bytes to publish. */
function readEntries(
  body: Buffer,
  scope: PublishScope,
  req: IncomingMessage,
  pubsub: string,
  topic: string,
  metadata: Record<string, string>,
  raw: boolean,
): BulkEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw eventsError(pubsub, topic, `the body is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw eventsError(pubsub, topic, 'the body must be a JSON array of entries');
  const seen = new Set<string>();
  return parsed.map((item: unknown, i): BulkEntry => {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      throw eventsError(pubsub, topic, `entry ${i} is not an object`);
    const e = item as Record<string, unknown>;
    const entryId = field(e, 'entryId');
    if (typeof entryId !== 'string' || entryId === '' || seen.has(entryId))
      throw eventsError(pubsub, topic, `entryId is duplicated or not present for entry ${i}`);
    seen.add(entryId);
    const contentType = field(e, 'contentType');
    const own = field(e, 'metadata');
    if (own !== undefined && (own === null || typeof own !== 'object'))
      throw eventsError(pubsub, topic, `entry ${entryId}: metadata must be an object of strings`);
    // Entry metadata over request metadata, as daprd merges them; an entry without any keeps none.
    const entryMeta = own ? { ...metadata, ...(own as Record<string, string>) } : {};
    let data: Uint8Array;
    try {
      data = entryBytes(field(e, 'event'), typeof contentType === 'string' ? contentType : '');
      if (!raw) {
        const ce = envelopeOf(
          data,
          contentType as string,
          envelopeContext(scope, req, pubsub, topic, entryMeta),
        );
        data = Buffer.from(JSON.stringify(ce), 'utf8');
      }
    } catch (err) {
      throw eventsError(pubsub, topic, `entry ${entryId}: ${(err as Error).message}`);
    }
    return { entryId, data, metadata: own ? entryMeta : metadata };
  });
}

/**
 * POST /v1.0-alpha1/publish/bulk/{pubsub}/{topic} (and /v1.0/): each entry
 * `{entryId, event, contentType, metadata?}` enveloped and published; 204 when all were, else 500
 * with Dapr's `{failedEntries: [{entryId, error}], errorCode}`.
 */
export async function publishBulk(
  scope: PublishScope,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  pubsubName: string,
  topic: string,
): Promise<void> {
  const { engine, metadata, raw, body } = await readPublish(scope, req, url, pubsubName);
  const entries = readEntries(body, scope, req, pubsubName, topic, metadata, raw);
  const failed: { entryId: string; error: string }[] = [];
  // One at a time, in order: per-key order is what the broker gives to sequential publishes.
  for (const e of entries) {
    try {
      await engine.publish(topic, e.data, e.metadata);
      scope.onPublished?.(pubsubName, topic, e.data.byteLength);
    } catch (err) {
      failed.push({ entryId: e.entryId, error: publishFailed(pubsubName, topic, err).message });
    }
  }
  if (failed.length === 0) {
    res.writeHead(204).end();
    return;
  }
  const text = JSON.stringify({ failedEntries: failed, errorCode: 'ERR_PUBSUB_PUBLISH_MESSAGE' });
  res
    .writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}
