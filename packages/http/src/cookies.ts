/** The session cookie of a browser signed in to a Sprout server (HttpOnly: no script reads it). */
export const SESSION_COOKIE = 'sprout_session';
/** The cookie a page reads its CSRF token from (double submit: it repeats it in `CSRF_HEADER`). */
export const CSRF_COOKIE = 'sprout_csrf';
/** The header a cookie-signed write must carry, holding the session's CSRF token. */
export const CSRF_HEADER = 'x-sprout-csrf';

const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MAX_COOKIES = 64;

/**
 * The cookies of a `Cookie` header, first value of each name kept (RFC 6265 §5.4: a browser sends
 * the most specific first). Malformed pairs are skipped, never thrown on; values are taken as sent
 * (no percent-decoding: Sprout's own values are base64url).
 *
 * @example
 * parseCookies('a=1; b=2').get('b'); // '2'
 */
export function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  const text = Array.isArray(header) ? header.join('; ') : header;
  for (const pair of text.split(';')) {
    if (out.size >= MAX_COOKIES) break;
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (NAME.test(name) && !out.has(name)) out.set(name, value);
  }
  return out;
}

export interface CookieOptions {
  /** Seconds until the browser drops it; 0 deletes it. Unset: a browser-session cookie. */
  maxAge?: number;
  /** Not readable by scripts (the session cookie). */
  httpOnly?: boolean;
  /** Sent over HTTPS only: set when the server is reached over TLS. */
  secure?: boolean;
}

/** A `Set-Cookie` value: `Path=/`, `SameSite=Strict` always (no cross-site request carries it). */
export function serializeCookie(name: string, value: string, o: CookieOptions = {}): string {
  const parts = [`${name}=${value}`, 'Path=/', 'SameSite=Strict'];
  if (o.maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(o.maxAge))}`);
  if (o.httpOnly) parts.push('HttpOnly');
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}
