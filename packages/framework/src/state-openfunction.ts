import type { DeleteRequest, SaveRequest, StateQuery, StateStore, TransactionOperation } from '@sprout/state';
import { FrameworkError } from './errors.js';

/**
 * OpenFunction 0.6's `ctx.state` calls, translated to a Sprout store. OpenFunction passes each call
 * to the Dapr JS SDK's state client with the *first value* of its argument object, so
 * `save({dataObjects: [...]})`, `get({key})`, `getBulk({keys, parallelism, metadata})`,
 * `delete({key})`, `transaction({operations, metadata})` and `query({query})` are its shapes, and
 * the results are the SDK's: the value (or '' when absent), `[{key, data, etag}]`,
 * `{results: [{key, data, etag}], token}`.
 */

type Obj = Record<string, unknown>;

function bad(call: string, message: string): FrameworkError {
  return new FrameworkError('SPROUT_ERR_FRAMEWORK_STATE_ARGUMENT', `ctx.state.${call}: ${message}`, {
    field: call,
    status: 400,
  });
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first value of an OpenFunction argument object (what OpenFunction hands to the SDK). */
function firstValue(call: string, data: unknown): unknown {
  if (!isObj(data)) throw bad(call, `expected an object such as {key: "k"}, got ${describe(data)}`);
  return Object.values(data)[0];
}

/** `get` and `delete` take an object with exactly one key, as OpenFunction checks. */
export function singleKey(call: string, data: unknown): string {
  if (!isObj(data) || Object.keys(data).length !== 1)
    throw bad(call, 'expected an object with exactly one field, the key: {key: "k"}');
  const key = Object.values(data)[0];
  if (typeof key !== 'string' || key === '')
    throw bad(call, `the key must be a non-empty string, got ${describe(key)}`);
  return key;
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** The Dapr SDK sends an etag either as a string or as `{value}`. */
function etagOf(call: string, v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.value === 'string') return v.value || undefined;
  throw bad(call, `an etag must be a string or {value: string}, got ${describe(v)}`);
}

function stringMap(call: string, v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw bad(call, 'metadata must be an object of strings');
  return v as Record<string, string>;
}

function saveItem(call: string, v: unknown, i: number): SaveRequest {
  if (!isObj(v) || typeof v.key !== 'string' || v.key === '')
    throw bad(call, `item ${i} must be {key: string, value}`);
  const item: SaveRequest = { key: v.key, value: v.value };
  const etag = etagOf(call, v.etag);
  if (etag !== undefined) item.etag = etag;
  const metadata = stringMap(call, v.metadata);
  if (metadata) item.metadata = metadata;
  if (isObj(v.options)) item.options = v.options as SaveRequest['options'];
  return item;
}

/** `save({dataObjects: [{key, value, etag?, metadata?, options?}]})`. */
export function saveItems(data: unknown): SaveRequest[] {
  const list = firstValue('save', data);
  if (!Array.isArray(list))
    throw bad('save', `expected {dataObjects: [{key, value}]}, got ${describe(list)}`);
  return list.map((v, i) => saveItem('save', v, i));
}

/** `getBulk({keys, parallelism?, metadata?})`: the keys (parallelism is the sidecar's business). */
export function bulkKeys(data: unknown): { keys: string[]; metadata?: Record<string, string> } {
  if (Array.isArray(data)) data = { keys: data };
  const keys = firstValue('getBulk', data);
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || k === ''))
    throw bad('getBulk', 'expected {keys: ["k1", ...]} with non-empty string keys');
  const values = Object.values(data as Obj);
  const md = values[2];
  // OpenFunction's typings call the third value metadata; a list of strings is what its tests pass.
  const metadata = isObj(md) ? stringMap('getBulk', md) : undefined;
  return { keys: keys as string[], ...(metadata ? { metadata } : {}) };
}

/** `transaction({operations: [{operation: 'upsert'|'delete', request}], metadata?})`. */
export function transactionOf(data: unknown): {
  operations: TransactionOperation[];
  metadata?: Record<string, string>;
} {
  if (!isObj(data)) throw bad('transaction', `expected {operations: [...]}, got ${describe(data)}`);
  const [ops, md] = Object.values(data);
  if (ops !== undefined && !Array.isArray(ops)) throw bad('transaction', 'operations must be an array');
  const operations = ((ops as unknown[] | undefined) ?? []).map((o, i): TransactionOperation => {
    if (!isObj(o) || !isObj(o.request))
      throw bad('transaction', `operation ${i} must be {operation, request}`);
    if (o.operation === 'upsert')
      return { operation: 'upsert', request: saveItem('transaction', o.request, i) };
    if (o.operation === 'delete') {
      const r = o.request;
      if (typeof r.key !== 'string' || r.key === '')
        throw bad('transaction', `operation ${i} needs a request.key`);
      const request: DeleteRequest = { key: r.key };
      const etag = etagOf('transaction', r.etag);
      if (etag !== undefined) request.etag = etag;
      return { operation: 'delete', request };
    }
    throw bad('transaction', `operation ${i}: "${String(o.operation)}" must be upsert or delete`);
  });
  const metadata = stringMap('transaction', md);
  return { operations, ...(metadata ? { metadata } : {}) };
}

/** `query({query: {filter, sort, page}})`. */
export function queryOf(data: unknown): StateQuery {
  const q = firstValue('query', data);
  if (!isObj(q)) throw bad('query', `expected {query: {filter, sort, page}}, got ${describe(q)}`);
  return q as StateQuery;
}

/** One item of the Dapr SDK's getBulk result. */
export type BulkStateItem = {
  key: string;
  data?: unknown;
  etag?: string;
  metadata?: { ttlExpireTime: string };
  error?: string;
};

/** What the Dapr SDK's getBulk returns for these keys: `{key, data, etag}`, `{key}` when missing. */
export async function bulkGet(
  store: StateStore,
  keys: string[],
  metadata?: Record<string, string>,
): Promise<BulkStateItem[]> {
  const items = await store.bulkGet(keys, metadata ? { metadata } : undefined);
  return items.map((i) =>
    i.error
      ? { key: i.key, error: i.error.message }
      : i.etag === undefined
        ? { key: i.key }
        : { key: i.key, data: i.value, etag: i.etag, ...(i.metadata ? { metadata: i.metadata } : {}) },
  );
}
