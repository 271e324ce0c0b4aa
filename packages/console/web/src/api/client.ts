/**
 * The console's one way to call the server: JSON in and out, the session cookie sent by the
 * browser, the CSRF token (from the `sprout_csrf` cookie) on every write, and errors as `ApiError`
 * with the server's stable code. Pages and the cluster installer call `api.get/post/del` with the
 * route's typed result.
 */

/** An answer that is not 2xx: the server's `{ error: { code, message, field? } }`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** The name of the cookie holding the CSRF token and of the header that must repeat it. */
const CSRF_COOKIE = 'sprout_csrf';
const CSRF_HEADER = 'x-sprout-csrf';

function csrfToken(): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === CSRF_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** Called when an answer says the session is gone (401), so the app can show the login form. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

async function requestJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = csrfToken();
    if (csrf) headers[CSRF_HEADER] = csrf;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    const e = (parsed as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    throw new ApiError(
      res.status,
      e?.code ?? res.headers.get('x-sprout-error-code') ?? 'SPROUT_ERR_HTTP_STATUS',
      e?.message ?? `${method} ${path}: HTTP ${res.status}`,
      e?.field,
    );
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => requestJson<T>('GET', path),
  post: <T>(path: string, body?: unknown) => requestJson<T>('POST', path, body),
  put: <T>(path: string, body?: unknown) => requestJson<T>('PUT', path, body),
  del: <T = void>(path: string) => requestJson<T>('DELETE', path),
};

/** Requests whose answer is not the API's JSON: a function's own answer (invoke), an event stream. */
export const request = {
  /** Any method, headers and body as given, plus the CSRF token on writes; the Response as it came. */
  raw(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
    const h = new Headers(headers);
    const csrf = csrfToken();
    if (csrf && method !== 'GET' && method !== 'HEAD') h.set(CSRF_HEADER, csrf);
    return fetch(path, {
      method,
      headers: h,
      credentials: 'same-origin',
      ...(body !== undefined && method !== 'GET' && method !== 'HEAD' ? { body } : {}),
    });
  },
};
