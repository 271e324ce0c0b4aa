import { StateError } from './errors.js';
import type { QueryFilter, QueryItem, QueryResponse, QuerySort, StateQuery } from './types.js';

const COMPARE_OPS = ['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE', 'IN'] as const;
const MISSING = Symbol('missing');

function invalid(message: string): never {
  throw new StateError('SPROUT_ERR_STATE_QUERY_INVALID', message);
}

function checkPath(path: string, where: string): string[] {
  const parts = path.split('.');
  if (path === '' || parts.some((p) => p === '')) invalid(`${where}: "${path}" is not a dot-path`);
  return parts;
}

/** Validates a query received from outside (any JSON) and returns it typed. */
export function parseQuery(input: unknown): StateQuery {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    invalid('a query must be an object');
  const q = input as Record<string, unknown>;
  for (const k of Object.keys(q)) {
    if (k !== 'filter' && k !== 'sort' && k !== 'page') invalid(`unknown query field "${k}"`);
  }
  const out: StateQuery = {};
  if (
    q.filter !== undefined &&
    !(typeof q.filter === 'object' && q.filter && Object.keys(q.filter).length === 0)
  ) {
    checkFilter(q.filter, 'filter');
    out.filter = q.filter as QueryFilter;
  }
  if (q.sort !== undefined) {
    if (!Array.isArray(q.sort)) invalid('sort must be an array');
    out.sort = q.sort.map((s: unknown, i) => {
      const item = s as Record<string, unknown>;
      if (!item || typeof item.key !== 'string') invalid(`sort[${i}].key must be a string`);
      checkPath(item.key, `sort[${i}].key`);
      const order = item.order ?? 'ASC';
      if (order !== 'ASC' && order !== 'DESC') invalid(`sort[${i}].order must be ASC or DESC`);
      return { key: item.key, order } as QuerySort;
    });
  }
  if (q.page !== undefined) {
    const p = q.page as Record<string, unknown>;
    if (!p || typeof p !== 'object') invalid('page must be an object');
    const page: { limit?: number; token?: string } = {};
    if (p.limit !== undefined) {
      if (typeof p.limit !== 'number' || !Number.isInteger(p.limit) || p.limit < 0)
        invalid('page.limit must be a non-negative integer');
      if (p.limit > 0) page.limit = p.limit;
    }
    if (p.token !== undefined && p.token !== '') {
      if (typeof p.token !== 'string') invalid('page.token must be a string');
      page.token = p.token;
    }
    out.page = page;
  }
  return out;
}

function checkFilter(f: unknown, where: string): void {
  if (!f || typeof f !== 'object' || Array.isArray(f)) invalid(`${where} must be an object`);
  const entries = Object.entries(f);
  if (entries.length !== 1) invalid(`${where} must have exactly one operator`);
  const [op, arg] = entries[0]!;
  if (op === 'AND' || op === 'OR') {
    if (!Array.isArray(arg) || arg.length === 0)
      invalid(`${where}.${op} must be a non-empty array of filters`);
    arg.forEach((sub, i) => checkFilter(sub, `${where}.${op}[${i}]`));
    return;
  }
  if (!(COMPARE_OPS as readonly string[]).includes(op)) {
    invalid(`${where}: unknown operator "${op}" (use EQ, NEQ, GT, GTE, LT, LTE, IN, AND, OR)`);
  }
  if (!arg || typeof arg !== 'object' || Array.isArray(arg) || Object.keys(arg).length !== 1) {
    invalid(`${where}.${op} must be an object with one path`);
  }
  const [path, value] = Object.entries(arg)[0]!;
  checkPath(path, `${where}.${op}`);
  if (op === 'IN' && !Array.isArray(value)) invalid(`${where}.IN.${path} must be an array`);
}

/** Reads a dot-path from a JSON value; MISSING when any step is absent. */
function pick(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return MISSING;
    if (Array.isArray(cur)) {
      // Arrays are entered by index only ("items.0"), as PostgreSQL's #> does.
      if (!/^\d+$/.test(part) || Number(part) >= cur.length) return MISSING;
      cur = cur[Number(part)];
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(cur, part)) return MISSING;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Deep equality of JSON values; object key order does not matter. */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => equal(x, bb[i]));
  }
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  const keys = Object.keys(oa);
  return (
    keys.length === Object.keys(ob).length &&
    keys.every((k) => Object.prototype.hasOwnProperty.call(ob, k) && equal(oa[k], ob[k]))
  );
}

/** Orders numbers numerically and strings lexically; other pairs are not ordered (undefined). */
function order(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return undefined;
}

/** True when a JSON value matches the filter. A path the value lacks matches nothing (except NEQ). */
export function matches(filter: QueryFilter | undefined, value: unknown): boolean {
  if (!filter) return true;
  const [op, arg] = Object.entries(filter)[0] as [string, unknown];
  if (op === 'AND') return (arg as QueryFilter[]).every((f) => matches(f, value));
  if (op === 'OR') return (arg as QueryFilter[]).some((f) => matches(f, value));
  const [path, want] = Object.entries(arg as Record<string, unknown>)[0]!;
  const got = pick(value, path);
  if (op === 'NEQ') return got === MISSING || !equal(got, want);
  if (got === MISSING) return false;
  switch (op) {
    case 'EQ':
      return equal(got, want);
    case 'IN':
      return (want as unknown[]).some((w) => equal(got, w));
    default: {
      const c = order(got, want);
      if (c === undefined) return false;
      return op === 'GT' ? c > 0 : op === 'GTE' ? c >= 0 : op === 'LT' ? c < 0 : c <= 0;
    }
  }
}

function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  if (!/^\d{1,15}$/.test(token)) {
    throw new StateError(
      'SPROUT_ERR_STATE_QUERY_INVALID',
      `page.token "${token}" is not a token this store issued`,
    );
  }
  return Number(token);
}

/**
 * Runs a query over items already read from an engine: filter, then sort (a stable order by key
 * when no sort is given), then page. Sorting by a path an item lacks is an error naming the key.
 */
export function runQuery<T>(items: QueryItem<T>[], query: StateQuery): QueryResponse<T> {
  const start = decodeToken(query.page?.token);
  const hits = items.filter((i) => matches(query.filter, i.value));
  const sorts = query.sort ?? [];
  for (const s of sorts) {
    for (const h of hits) {
      if (pick(h.value, s.key) === MISSING) {
        throw new StateError(
          'SPROUT_ERR_STATE_QUERY_PATH_MISSING',
          `cannot sort by "${s.key}": the value of key "${h.key}" has nothing at that path`,
          { field: h.key },
        );
      }
    }
  }
  hits.sort((a, b) => {
    for (const s of sorts) {
      const x = pick(a.value, s.key);
      const y = pick(b.value, s.key);
      let c = order(x, y);
      if (c === undefined)
        c = JSON.stringify(x) < JSON.stringify(y) ? -1 : JSON.stringify(x) > JSON.stringify(y) ? 1 : 0;
      if (c !== 0) return s.order === 'DESC' ? -c : c;
    }
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });
  const limit = query.page?.limit;
  const end = limit === undefined ? hits.length : start + limit;
  const results = hits.slice(start, end);
  return end < hits.length ? { results, token: String(end) } : { results };
}
