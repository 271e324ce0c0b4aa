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

/** Names by length, lower-cased bytes, for `fieldOf`. */
const BY_LENGTH: { name: Uint8Array; field: Field }[][] = [];
for (const [name, field] of [
  ['date', Field.Date],
  ['content-length', Field.ContentLength],
  ['transfer-encoding', Field.TransferEncoding],
  ['connection', Field.Connection],
  ...[...HOP_BY_HOP].map((n) => [n, Field.Hop] as const),
] as const) {
  if (field === Field.Hop && (name === 'connection' || name === 'transfer-encoding')) continue;
  (BY_LENGTH[name.length] ??= []).push({ name: Buffer.from(name, 'latin1'), field });
}

/**
 * Which of the names the parsers act on `bytes[start, end)` is, in any case (a token's bytes:
 * OR-ing 0x20 lower-cases a letter and leaves `-` and digits as they are), without a string.
 */
export function fieldOf(bytes: Uint8Array, start: number, end: number): Field {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return Field.Other;
  next: for (const { name, field } of candidates) {
    for (let k = 0; k < name.length; k++) if ((bytes[start + k]! | 0x20) !== name[k]) continue next;
    return field;
  }
  return Field.Other;
}

/** `bytes[start, end)` in any case is `lower` (lower-case ASCII letters and `-`). */
export function equalsLower(bytes: Uint8Array, start: number, end: number, lower: Uint8Array): boolean {
  if (end - start !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) if ((bytes[start + k]! | 0x20) !== lower[k]) return false;
  return true;
}
