import type { SproutResponse } from './http/response.js';

/** A return value shaped as a whole response: `{ code?, headers?, body? }` and nothing else. */
export interface FunctionResponse {
  code?: number;
  statusCode?: number;
  headers?: Record<string, string | number | string[]>;
  body?: unknown;
}

const RESPONSE_KEYS = new Set(['code', 'statusCode', 'headers', 'body']);

function isFunctionResponse(v: unknown): v is FunctionResponse {
  if (!v || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v) || v instanceof Uint8Array)
    return false;
  // The cheap test first: most results (plain JSON objects) carry none of these keys.
  if (!('code' in v || 'statusCode' in v || 'headers' in v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => RESPONSE_KEYS.has(k));
}

/**
 * Writes a function's return value as the response, unless the function already answered:
 * undefined → 204; string → text/plain; Buffer → octet-stream; `{code, headers, body}` → as given;
 * any other value → JSON.
 */
export function writeResult(res: SproutResponse, value: unknown): void {
  if (res.headersSent || res.writableEnded) return;
  if (value === undefined) {
    res.statusCode = res.statusCode === 200 ? 204 : res.statusCode;
    res.end();
    return;
  }
  if (isFunctionResponse(value)) {
    const code = value.code ?? value.statusCode;
    if (code !== undefined) res.statusCode = code;
    if (value.headers) res.set(value.headers);
    if (value.body === undefined) {
      res.end();
      return;
    }
    value = value.body;
  }
  if (typeof value === 'string' && !res.hasHeader('content-type'))
    res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.send(value);
}
