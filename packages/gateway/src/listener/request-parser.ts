/**
 * The raw listener's request-head parser: it recognises only the common simple request — HTTP/1.1,
 * a method without a body, an origin-form target, plain header fields each named once, a Host —
 * and says `OTHER` for anything else, which the listener hands to `node:http` with the bytes
 * unread (Node's own parser then accepts it or answers 400/431 as it always did). It never throws
 * on input: every byte sequence is either a simple request, not yet complete (`MORE`) or `OTHER`.
 */

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
const REQUEST_LINE = /^(GET|HEAD|DELETE|OPTIONS) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
/**
 * Every field line after the request line at once (sticky: lastIndex at the request line's end):
 * a token name, a colon, a value of visible ASCII, spaces and tabs (obs-text and control
 * characters go to node:http).
 */
const FIELD_LINES = /(?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e]*)*$/y;

/**
 * Parses the head at the start of `buf`. `from` is where the search for the blank line may start
 * (bytes before it were searched already); `maxHeadBytes` bounds the head (longer: `OTHER`).
 */
export function parseRequestHead(buf: Buffer, from: number, maxHeadBytes: number): ParseResult {
  const end = buf.indexOf('\r\n\r\n', Math.max(0, from - 3), 'latin1');
  if (end < 0) return buf.length > maxHeadBytes ? OTHER : MORE;
  if (end + 4 > maxHeadBytes) return OTHER;
  const text = buf.toString('latin1', 0, end);
  const lines = text.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]!);
  if (!m || lines.length - 1 > MAX_FIELDS) return OTHER;
  FIELD_LINES.lastIndex = lines[0]!.length;
  if (!FIELD_LINES.test(text)) return OTHER;
  const rawHeaders: string[] = [];
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    // FIELD_LINES held: a token, then the first colon, then an allowed value
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    // only tab and space can be at the ends: trim() takes exactly the optional whitespace
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (lower in headers || !simpleField(lower, value)) return OTHER;
    headers[lower] = value;
    rawHeaders.push(name, value);
  }
  if (headers.host === undefined) return OTHER;
  return { method: m[1]!, url: m[2]!, rawHeaders, headers, size: end + 4 };
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
