import type { IncomingMessage } from 'node:http';

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

/**
 * Takes Sprout's own credentials out of a request that is passed on to a function (the platform
 * API's invoke route): `Authorization`, `x-sprout-csrf` and the session and CSRF cookies (other
 * cookies stay). A function never sees what would let it act as the caller on Sprout's API.
 */
export function dropCredentials(req: IncomingMessage): void {
  const raw = req.rawHeaders;
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'authorization' || lower === CSRF_HEADER) continue;
    if (lower === 'cookie') {
      const rest = withoutOwnCookies(raw[i + 1]!);
      if (rest) kept.push(name, rest);
      continue;
    }
    kept.push(name, raw[i + 1]!);
  }
  raw.splice(0, raw.length, ...kept);
  delete req.headers.authorization;
  delete req.headers[CSRF_HEADER];
  const cookie = typeof req.headers.cookie === 'string' ? withoutOwnCookies(req.headers.cookie) : '';
  if (cookie) req.headers.cookie = cookie;
  else delete req.headers.cookie;
}

function withoutOwnCookies(header: string): string {
  return header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => {
      const name = p.split('=')[0]!.trim();
      return p !== '' && name !== SESSION_COOKIE && name !== CSRF_COOKIE;
    })
    .join('; ');
}
