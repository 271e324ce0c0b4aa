import { sendJson } from '@sprout/http';
import type { DeleteRequest } from '../types.js';
import { isRecord, saveItem } from './items.js';
import { readJson, type StateCall } from './request.js';
import { bad, send, sendEmpty } from './respond.js';

// The key routes of Dapr's state API: GET and DELETE /v1.0/state/{store}/{key},
// POST /v1.0/state/{store} (save) and POST /v1.0/state/{store}/bulk (bulk get).

/** GET: 200 with the JSON value and its etag (and TTL expiry), or 204 when the key is missing. */
export async function getState({ res, url, store, rest, metadata }: StateCall): Promise<void> {
  const consistency = url.searchParams.get('consistency') ?? undefined;
  const entry = await store.get(rest!, {
    ...(metadata ? { metadata } : {}),
    ...(consistency ? { consistency: consistency as 'strong' } : {}),
  });
  if (!entry) sendEmpty(res, 204);
  else
    sendJson(res, 200, entry.value, {
      'content-type': 'application/json',
      etag: entry.etag,
      ...(entry.metadata ? { 'metadata.ttlexpiretime': entry.metadata.ttlExpireTime } : {}),
    });
}

/** DELETE: the etag comes from `If-Match`, options from `?concurrency=` and `?consistency=`; 204. */
export async function deleteState({ req, res, url, store, rest, metadata }: StateCall): Promise<void> {
  const concurrency = url.searchParams.get('concurrency') ?? undefined;
  const consistency = url.searchParams.get('consistency') ?? undefined;
  const ifMatch = req.headers['if-match'];
  const o: Omit<DeleteRequest, 'key'> = {};
  if (ifMatch) o.etag = ifMatch.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  if (metadata) o.metadata = metadata;
  if (concurrency || consistency)
    o.options = {
      ...(concurrency ? { concurrency } : {}),
      ...(consistency ? { consistency } : {}),
    } as DeleteRequest['options'] & object;
  await store.delete(rest!, o);
  sendEmpty(res, 204);
}

/** POST a JSON array of items: saved all-or-nothing; 204. */
export async function saveState(call: StateCall): Promise<void> {
  const body = await readJson(call);
  if (!Array.isArray(body)) throw bad('the body of a save must be a JSON array of {key, value} items');
  await call.store.save(body.map((v, i) => saveItem(v, `[${i}]`, call.metadata)));
  sendEmpty(call.res, 204);
}

/** POST `{keys}`: 200 with one `{key, data, etag}` per key (`{key}` when missing). */
export async function bulkGetState(call: StateCall): Promise<void> {
  const body = await readJson(call);
  if (!isRecord(body) || !Array.isArray(body.keys) || body.keys.some((k) => typeof k !== 'string')) {
    throw bad('the body of a bulk get must be {"keys": ["k1", ...]}');
  }
  const { metadata } = call;
  const items = await call.store.bulkGet(body.keys as string[], metadata ? { metadata } : undefined);
  send(
    call.res,
    200,
    items.map((i) =>
      i.error
        ? { key: i.key, error: i.error.message }
        : i.etag === undefined
          ? { key: i.key }
          : {
              key: i.key,
              data: i.value,
              etag: i.etag,
              ...(i.metadata ? { metadata: i.metadata } : {}),
            },
    ),
  );
}
