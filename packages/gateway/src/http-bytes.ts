/**
 * Byte classes of HTTP/1.1 heads (RFC 9110 §5.1, §5.5), for the parsers that read heads byte by
 * byte instead of through strings and regular expressions.
 */
import { HOP_BY_HOP } from './http-util.js';

/** tchar: the bytes of a token (a field name, a method). */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;

/** The blank line that ends a head, as a needle for `Buffer.indexOf` (no string conversion per search). */
export const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

/** `buf` holds `prefix` at `at`. */
export function startsWith(buf: Buffer, prefix: Buffer, at: number): boolean {
  if (buf.length < at + prefix.length) return false;
  for (let k = 0; k < prefix.length; k++) if (buf[at + k] !== prefix[k]) return false;
  return true;
}

/** A byte a field value may hold: HTAB, SP, visible ASCII and (`obsText`) obs-text. */
export function valueByte(b: number, obsText: boolean): boolean {
  return b === HTAB || (b >= SP && b !== 0x7f && (b < 0x80 || obsText));
}

/** Field names the head parsers act on; the hop-by-hop ones (RFC 9110 §7.6.1) from TransferEncoding on. */
export const enum Field {
  Other,
  Date,
  ContentLength,
  TransferEncoding,
  Connection,
  /** Another hop-by-hop name (Keep-Alive, TE, Upgrade, …). */
  Hop,
}

/** Lower-case names by length, each with what it stands for: tokens are looked up in one. */
type NameTable<T> = { name: Uint8Array; value: T }[][];

function nameTable<T>(entries: Iterable<readonly [string, T]>): NameTable<T> {
  const table: NameTable<T> = [];
  for (const [name, value] of entries)
    (table[name.length] ??= []).push({ name: Buffer.from(name, 'latin1'), value });
  return table;
}

/**
 * What the token `bytes[start, end)` stands for in `table`, in any case (a token's bytes: OR-ing
 * 0x20 lower-cases a letter and turns no other tchar into a letter or `-`), without a string.
 */
function lookupName<T>(table: NameTable<T>, bytes: Uint8Array, start: number, end: number): T | undefined {
  const candidates = table[end - start];
  if (candidates === undefined) return undefined;
  for (const { name, value } of candidates) if (equalsLower(bytes, start, end, name)) return value;
  return undefined;
}

/** The names the parsers act on, for `fieldOf`. */
const FIELDS = nameTable<Field>(
  (
    [
      ['date', Field.Date],
      ['content-length', Field.ContentLength],
      ['transfer-encoding', Field.TransferEncoding],
      ['connection', Field.Connection],
      ...[...HOP_BY_HOP].map((n) => [n, Field.Hop] as const),
    ] as const
  ).filter(([name, field]) => field !== Field.Hop || (name !== 'connection' && name !== 'transfer-encoding')),
);

/** Which of the names the parsers act on the token `bytes[start, end)` is, in any case. */
export function fieldOf(bytes: Uint8Array, start: number, end: number): Field {
  return lookupName(FIELDS, bytes, start, end) ?? Field.Other;
}

/** `bytes[start, end)` in any case is `lower` (lower-case ASCII letters and `-`). */
export function equalsLower(bytes: Uint8Array, start: number, end: number, lower: Uint8Array): boolean {
  if (end - start !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) if ((bytes[start + k]! | 0x20) !== lower[k]) return false;
  return true;
}

/**
 * Field names requests commonly carry, lower-cased. A name read from the wire is a new string
 * each time, and V8 must look a new string up in its string table before using it as a property
 * name (about 80 ns a field in the header map); one of these constants is that string already.
 */
const KNOWN_NAMES = [
  'host',
  'user-agent',
  'accept',
  'accept-language',
  'accept-encoding',
  'accept-charset',
  'connection',
  'keep-alive',
  'cache-control',
  'pragma',
  'cookie',
  'referer',
  'origin',
  'authorization',
  'content-type',
  'content-length',
  'if-none-match',
  'if-modified-since',
  'upgrade-insecure-requests',
  'sec-fetch-dest',
  'sec-fetch-mode',
  'sec-fetch-site',
  'sec-fetch-user',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'priority',
  'dnt',
  'te',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'x-request-id',
  'traceparent',
  'tracestate',
];
const KNOWN = nameTable(KNOWN_NAMES.map((name) => [name, name] as const));

/** The constant for the token `bytes[start, end)` in any case when it is a known name (see KNOWN_NAMES). */
export function knownName(bytes: Uint8Array, start: number, end: number): string | undefined {
  return lookupName(KNOWN, bytes, start, end);
}

/**
 * `bytes[from, to)` holds only what field lines may: visible ASCII, SP and HTAB, with CR and LF
 * only as CRLF pairs (no control character, DEL or obs-text). Four bytes a step: a word is looked
 * at byte by byte only when one of its bytes is below 0x20 or from 0x7f (in a head, the words
 * holding its CRLFs and tabs).
 */
export function fieldBytesValid(bytes: Uint8Array, from: number, to: number): boolean {
  let i = from;
  // a short head is quicker read byte by byte than with a view made for it
  const view = to - from < 128 ? undefined : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (; view !== undefined && i + 4 <= to; i += 4) {
    // int32 arithmetic throughout (`| 0`), so the compiler keeps it in integer registers
    const w = view.getInt32(i, true);
    const del = w ^ 0x7f7f7f7f;
    const below = ((w - 0x20202020) | 0) & ~w;
    const isDel = ((del - 0x01010101) | 0) & ~del;
    // a byte with its high bit set, a byte below 0x20, a byte equal to 0x7f (bit tricks on 4 bytes)
    if (((w | below | isDel) & -0x7f7f7f80) === 0) continue;
    for (let k = i; k < i + 4; k++) if (!fieldByte(bytes, k, from, to)) return false;
  }
  for (; i < to; i++) if (!fieldByte(bytes, i, from, to)) return false;
  return true;
}

function fieldByte(bytes: Uint8Array, k: number, from: number, to: number): boolean {
  const b = bytes[k]!;
  if (b >= SP && b < 0x7f) return true;
  if (b === HTAB) return true;
  if (b === CR) return k + 1 < to && bytes[k + 1] === LF;
  if (b === LF) return k > from && bytes[k - 1] === CR;
  return false;
}
