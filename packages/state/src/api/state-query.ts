import { parseQuery } from '../query.js';
import { readJson, type StateCall } from './request.js';
import { send } from './respond.js';

/**
 * POST /v1.0-alpha1/state/{store}/query with `{filter, sort, page}`: 200 with
 * `{results: [{key, data, etag}], token?}` (the token asks for the next page).
 */
export async function queryState(call: StateCall): Promise<void> {
  const query = parseQuery(await readJson(call));
  const out = await call.store.query(query, call.metadata);
  send(call.res, 200, {
    results: out.results.map((r) => ({ key: r.key, data: r.value, etag: r.etag })),
    ...(out.token ? { token: out.token } : {}),
  });
}
