/**
 * The raw listener's request-head parser: it recognises only the common simple request — HTTP/1.1,
 * a method without a body, an origin-form target, plain header fields each named once, a Host —
 * and says `OTHER` for anything else, which the listener hands to `node:http` with the bytes
 * unread (Node's own parser then accepts it or answers 400/431 as it always did). It never throws
 * on input: every byte sequence is either a simple request, not yet complete (`MORE`) or `OTHER`.
 */

import { COLON, CR, HEAD_END, HTAB, LF, SP, startsWith, TCHAR, valueByte } from '../http-bytes.js';

/** A complete simple request head. */
export interface SimpleRequest {
  method: string;
  /** The request target as sent (origin-form). */
  url: string;
  /** [name, value, …] as sent (names keep their case). */
  rawHeaders: string[];
  /** Lower-cased names to values (each name appears once in a simple request). */
  headers: Record<string, string>;
  /** Bytes of the head, its blank line included: what follows is the next request. */
  size: number;
}

/** The head is not complete yet. */
export const MORE = 0;
/** Not a simple request (or not HTTP at all): `node:http` takes it. */
export const OTHER = 1;
export type ParseResult = SimpleRequest | typeof MORE | typeof OTHER;

/** Header fields a simple request may have at most. */
const MAX_FIELDS = 100;
const HTTP11 = Buffer.from(' HTTP/1.1', 'latin1');
/**
 * The prototype of a request's header map: empty and frozen, so the map inherits nothing (no
 * `constructor`, no `__proto__` setter: every name is the client's) yet stays a fast-mode object.
 * `Object.create(null)` makes a dictionary-mode one, five times slower to fill.
 */
const INHERITS_NOTHING = Object.freeze(Object.create(null) as object);
const METHODS = ['GET', 'HEAD', 'DELETE', 'OPTIONS'] as const;
const METHOD_BYTES = METHODS.map((m) => Buffer.from(m + ' ', 'latin1'));

/**
 * Parses the head at the start of `buf`. `from` is where the search for the blank line may start
 * (bytes before it were searched already); `maxHeadBytes` bounds the head (longer: `OTHER`).
 * One pass over the bytes, strings made only for what the request carries: the request line must
 * be `<GET|HEAD|DELETE|OPTIONS> /<visible ASCII> HTTP/1.1`; each field line a token, a colon and
 * a value of visible ASCII, spaces and tabs (obs-text and control characters go to node:http).
 */
export function parseRequestHead(buf: Buffer, from: number, maxHeadBytes: number): ParseResult {
  const end = buf.indexOf(HEAD_END, Math.max(0, from - 3));
  if (end < 0) return buf.length > maxHeadBytes ? OTHER : MORE;
  if (end + 4 > maxHeadBytes) return OTHER;
  let m = 0;
  while (m < METHODS.length && !startsWith(buf, METHOD_BYTES[m]!, 0)) m++;
  if (m === METHODS.length) return OTHER;
  const targetStart = METHOD_BYTES[m]!.length;
  let i = targetStart;
  if (buf[i] !== 0x2f) return OTHER; // origin-form: "/…"
  while (i < end && buf[i]! > SP && buf[i]! < 0x7f) i++;
  const targetEnd = i;
  if (!startsWith(buf, HTTP11, i)) return OTHER;
  i += HTTP11.length;
  const text = buf.toString('latin1', 0, end);
  const rawHeaders: string[] = [];
  const headers = Object.create(INHERITS_NOTHING) as Record<string, string>;
  // i: the end of the previous line; each field line is CRLF, token, ':', value
  while (i < end) {
    if (buf[i] !== CR || buf[i + 1] !== LF || rawHeaders.length === 2 * MAX_FIELDS) return OTHER;
    const nameStart = i + 2;
    let j = nameStart;
    let upper = false;
    for (let b = buf[j]!; j < end && TCHAR[b] === 1; b = buf[++j]!) if (b >= 0x41 && b <= 0x5a) upper = true;
    if (j === nameStart || j === end || buf[j] !== COLON) return OTHER;
    const nameEnd = j++;
    while (j < end && valueByte(buf[j]!, false)) j++;
    if (j < end && buf[j] !== CR) return OTHER;
    i = j;
    // the value without the whitespace around it
    let vs = nameEnd + 1;
    while (vs < j && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    while (j > vs && (buf[j - 1] === SP || buf[j - 1] === HTAB)) j--;
    const name = text.slice(nameStart, nameEnd);
    const value = text.slice(vs, j);
    const lower = upper ? name.toLowerCase() : name;
    if (lower in headers || !simpleField(lower, value)) return OTHER;
    headers[lower] = value;
    rawHeaders.push(name, value);
  }
  if (headers.host === undefined) return OTHER;
  return { method: METHODS[m]!, url: text.slice(targetStart, targetEnd), rawHeaders, headers, size: end + 4 };
}

/** A field a simple request may carry: no body, no upgrade, no expectation, the connection kept. */
function simpleField(lower: string, value: string): boolean {
  switch (lower) {
    case 'content-length':
      return value === '0';
    case 'transfer-encoding':
    case 'upgrade':
    case 'expect':
    case 'http2-settings':
      return false;
    case 'connection':
      for (const t of value.split(',')) {
        const token = t.trim().toLowerCase();
        if (token === 'close' || token === 'upgrade') return false;
      }
      return true;
    default:
      return true;
  }
}
