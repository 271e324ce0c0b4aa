/**
 * The raw listener's request-head parser: it recognises only the common simple request — HTTP/1.1,
 * a method without a body, an origin-form target, plain header fields each named once, a Host —
 * and says `OTHER` for anything else, which the listener hands to `node:http` with the bytes
 * unread (Node's own parser then accepts it or answers 400/431 as it always did). It never throws
 * on input: every byte sequence is either a simple request, not yet complete (`MORE`) or `OTHER`.
 */

import {
  COLON,
  CR,
  fieldBytesValid,
  HEAD_END,
  HTAB,
  knownName,
  SP,
  startsWith,
  TCHAR,
} from '../http-bytes.js';
import { HOP_BY_HOP } from '../http-util.js';

/** A complete simple request head. */
export interface SimpleRequest {
  method: string;
  /** The request target as sent (origin-form). */
  url: string;
  /** [name, value, …] as sent (names keep their case). */
  rawHeaders: string[];
  /** Lower-cased names to values (each name appears once in a simple request). */
  headers: Record<string, string>;
  /**
   * The field lines as sent, each after its CRLF (`\r\nHost: a\r\nAccept: *\/*`), hop-by-hop
   * lines left out: what the instance gets with no list or string made per field (see
   * `passedRequestHead`). Undefined when a Connection header names other fields to drop.
   */
  forwardFields: string | undefined;
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
  /** Field lines kept so far, when a hop-by-hop line was left out (else one slice at the end). */
  let kept: string | undefined;
  /** Where the field lines not yet in `kept` start (the first one at the request line's CRLF). */
  let keptFrom = i;
  // Every byte of the field lines at once, four a step: visible ASCII, SP, HTAB, CR and LF only
  // as CRLF pairs. obs-text and control characters go to node:http.
  if (!fieldBytesValid(buf, i, end)) return OTHER;
  let connection = Connection.Kept;
  // i: the end of the previous line; each field line is CRLF, token, ':', value
  while (i < end) {
    if (buf[i] !== CR || rawHeaders.length === 2 * MAX_FIELDS) return OTHER;
    const nameStart = i + 2;
    let j = nameStart;
    let upper = false;
    for (let b = buf[j]!; j < end && TCHAR[b] === 1; b = buf[++j]!) if (b >= 0x41 && b <= 0x5a) upper = true;
    if (j === nameStart || j === end || buf[j] !== COLON) return OTHER;
    const nameEnd = j;
    // the line ends at the next CRLF (the head's end for the last one): CR and LF come in pairs
    const lineEnd = text.indexOf('\r\n', nameEnd);
    i = lineEnd < 0 ? end : lineEnd;
    // the value without the whitespace around it
    let vs = nameEnd + 1;
    let ve = i;
    while (vs < ve && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    const known = knownName(buf, nameStart, nameEnd);
    const name = known !== undefined && !upper ? known : text.slice(nameStart, nameEnd);
    const value = text.slice(vs, ve);
    const lower = known ?? (upper ? name.toLowerCase() : name);
    if (lower in headers) return OTHER;
    if (lower.length === 10 && lower === 'connection') {
      connection = connectionOf(value);
      if (connection === Connection.Closes) return OTHER;
    } else if (!simpleField(lower, value)) return OTHER;
    headers[lower] = value;
    rawHeaders.push(name, value);
    if (HOP_BY_HOP.has(lower)) {
      // the line from its CRLF (nameStart - 2) to the next CRLF (i) stays with this hop
      kept = (kept ?? '') + text.slice(keptFrom, nameStart - 2);
      keptFrom = i;
    }
  }
  if (headers.host === undefined) return OTHER;
  const rest = text.slice(keptFrom, end);
  return {
    method: METHODS[m]!,
    url: text.slice(targetStart, targetEnd),
    rawHeaders,
    headers,
    forwardFields:
      connection === Connection.NamesOthers ? undefined : kept === undefined ? rest : kept + rest,
    size: end + 4,
  };
}

/** What a Connection header asks. */
const enum Connection {
  /** Keep the connection (no token, `keep-alive`, or standard hop-by-hop names). */
  Kept,
  /** `close` or `upgrade`: not a simple request. */
  Closes,
  /** Kept, and other fields named to be dropped (the proxy's generic path does that). */
  NamesOthers,
}

function connectionOf(value: string): Connection {
  let named = false;
  for (const t of value.split(',')) {
    const token = t.trim().toLowerCase();
    if (token === 'close' || token === 'upgrade') return Connection.Closes;
    if (token !== '' && token !== 'keep-alive' && !HOP_BY_HOP.has(token)) named = true;
  }
  return named ? Connection.NamesOthers : Connection.Kept;
}

/** A field other than Connection a simple request may carry: no body, no upgrade, no expectation. */
function simpleField(lower: string, value: string): boolean {
  switch (lower) {
    case 'content-length':
      return value === '0';
    case 'transfer-encoding':
    case 'upgrade':
    case 'expect':
    case 'http2-settings':
      return false;
    default:
      return true;
  }
}
