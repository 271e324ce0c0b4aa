import { StateError } from '../errors.js';
import type { DeleteRequest, SaveRequest } from '../types.js';
import { bad } from './respond.js';

// The items of Dapr's request bodies, checked into the library's request types. `where` is the
// item's path in the body (`[0]`, `operations[2].request`) for the error message.

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An object of strings (numbers are taken as their text); undefined when absent. */
export function stringMap(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw bad(`${where} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string' && typeof x !== 'number') throw bad(`${where}.${k} must be a string`);
    out[k] = String(x);
  }
  return out;
}

function etagOf(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v.value === 'string') return v.value; // { value } as some SDKs send it
  throw new StateError('SPROUT_ERR_STATE_ETAG_INVALID', `${where} must be a string`);
}

/**
 * One `{key, value, etag?, metadata?, options?}` item to save. `queryMeta` (the request's
 * `?metadata.*`) overrides the item's own metadata key by key, as Dapr's HTTP API does.
 */
export function saveItem(
  v: unknown,
  where: string,
  queryMeta: Record<string, string> | undefined,
): SaveRequest {
  if (!isRecord(v)) throw bad(`${where} must be an object with key and value`);
  if (typeof v.key !== 'string')
    throw new StateError('SPROUT_ERR_STATE_KEY_INVALID', `${where}.key must be a string`);
  if (!('value' in v))
    throw new StateError('SPROUT_ERR_STATE_VALUE_INVALID', `${where}.value is missing`, { field: v.key });
  const item: SaveRequest = { key: v.key, value: v.value };
  const etag = etagOf(v.etag, `${where}.etag`);
  if (etag !== undefined) item.etag = etag;
  const metadata = { ...stringMap(v.metadata, `${where}.metadata`), ...queryMeta };
  if (Object.keys(metadata).length) item.metadata = metadata;
  if (v.options !== undefined && v.options !== null) {
    if (!isRecord(v.options)) throw bad(`${where}.options must be an object`);
    item.options = v.options as SaveRequest['options'] & object;
  }
  return item;
}

/** One `{key, etag?, metadata?, options?}` item to delete. */
export function deleteItem(v: unknown, where: string): DeleteRequest {
  if (!isRecord(v)) throw bad(`${where} must be an object with a key`);
  if (typeof v.key !== 'string')
    throw new StateError('SPROUT_ERR_STATE_KEY_INVALID', `${where}.key must be a string`);
  const item: DeleteRequest = { key: v.key };
  const etag = etagOf(v.etag, `${where}.etag`);
  if (etag !== undefined) item.etag = etag;
  const md = stringMap(v.metadata, `${where}.metadata`);
  if (md) item.metadata = md;
  if (isRecord(v.options)) item.options = v.options as DeleteRequest['options'] & object;
  return item;
}
