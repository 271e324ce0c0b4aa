/**
 * An incremental HTTP/1.1 response-head parser for the raw forwarding path (RFC 9112 §4–6):
 * bytes are fed as they arrive; once the blank line is in, the status, the raw header list and
 * the body's framing come back. Anything malformed or over the limits throws a `ForwardError`,
 * which the forwarder answers with a coded 502.
 */

import {
  COLON,
  CR,
  equalsLower,
  Field,
  fieldOf,
  HEAD_END,
  HTAB,
  LF,
  SP,
  startsWith,
  TCHAR,
  valueByte,
} from '../http-bytes.js';

/** Upper bounds on what an instance may send before its body. */
export interface HeadLimits {
  /** Bytes of status line and headers together (default 64 KiB). */
  maxHeadBytes: number;
  /** Header fields (default 256). */
  maxHeaders: number;
}

const HEAD_LIMITS: HeadLimits = { maxHeadBytes: 64 * 1024, maxHeaders: 256 };

/** How the body after a head is delimited. */
export type Framing =
  { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  /** [name, value, …] as sent (names keep their case). */
  readonly rawHeaders: string[];
  /** The instance will close the connection after this response (or its body runs to the close). */
  close: boolean;
  /** The body's framing, for a response to a request that is not HEAD. */
  framing: Framing;
  /** Content-Length was sent (the body length is known to the client). */
  hasLength: boolean;
  /** A Date header was sent. */
  hasDate: boolean;
  /**
   * Bytes starting with the head, for a writer that passes it on as it came: `[0, fieldsEnd)` is
   * the status line and every field line, each with its CRLF.
   */
  readonly bytes: Buffer;
  readonly fieldsEnd: number;
  /**
   * [start, end) byte ranges of `bytes` holding hop-by-hop field lines, in order: each range is a
   * line with the CRLF before it, so leaving the ranges out leaves the other lines whole.
   */
  hopLines: number[];
}

/** A malformed or over-limit response from an instance. */
export class ForwardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardError';
  }
}

const HTTP1 = Buffer.from('HTTP/1.', 'latin1');
const DIGITS = /^\d{1,15}$/;
const KEEP_ALIVE = Buffer.from('keep-alive', 'latin1');
const CLOSE = Buffer.from('close', 'latin1');

/** `bytes[start, end)` as a number when it is 1 to 15 digits, else -1. */
function digits(bytes: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let n = 0;
  for (let k = start; k < end; k++) {
    const d = bytes[k]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** One member of a Content-Length list. */
function lengthOf(v: string): number {
  const t = v.trim();
  if (!DIGITS.test(t)) throw new ForwardError('malformed Content-Length');
  return Number(t);
}

/** Collects bytes until the head is complete; `push` returns the head and what followed it. */
export class ResponseHeadParser {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly limits: HeadLimits = HEAD_LIMITS) {}

  /** Feeds bytes; undefined while the head is incomplete. */
  push(chunk: Buffer): { head: ResponseHead; rest: Buffer } | undefined {
    // search from just before the new bytes: the blank line may straddle two chunks
    const from = Math.max(0, this.size - 3);
    this.parts.push(chunk);
    this.size += chunk.length;
    const all = this.parts.length === 1 ? chunk : Buffer.concat(this.parts, this.size);
    if (this.parts.length > 1) this.parts = [all];
    const end = all.indexOf(HEAD_END, from);
    if (end < 0) {
      if (this.size > this.limits.maxHeadBytes)
        throw new ForwardError(`response head over ${this.limits.maxHeadBytes} bytes`);
      return undefined;
    }
    if (end + 4 > this.limits.maxHeadBytes)
      throw new ForwardError(`response head over ${this.limits.maxHeadBytes} bytes`);
    const head = parseHead(all, end, this.limits);
    this.parts = [];
    this.size = 0;
    return { head, rest: all.subarray(end + 4) };
  }
}

/**
 * A parsed head. The raw header list is made from the bytes only when asked for: the common
 * response, framed by its length, is passed on as bytes (see RawResponse.passHead).
 */
class ParsedHead implements ResponseHead {
  close = false;
  framing: Framing = { kind: 'close' };
  hasLength = false;
  hasDate = false;
  hopLines: number[] = [];
  private list: string[] | undefined;

  constructor(
    readonly status: number,
    readonly reason: string,
    readonly bytes: Buffer,
    readonly fieldsEnd: number,
    /** The head as text (latin1, one character a byte) and [name start, name end, value start, value end] per field. */
    private readonly text: string,
    private readonly fields: number[],
  ) {}

  get rawHeaders(): string[] {
    if (this.list) return this.list;
    const { text, fields } = this;
    const list: string[] = [];
    for (let k = 0; k < fields.length; k += 4)
      list.push(text.slice(fields[k], fields[k + 1]), text.slice(fields[k + 2], fields[k + 3]));
    return (this.list = list);
  }
}

/**
 * Parses the complete head in `bytes[0, end)` (`end`: where its blank line starts), byte by
 * byte: status line `HTTP/1.<0|1> <1-9><digit><digit>[ <reason>]`, then field lines of a token, a
 * colon and a value of HTAB, SP, visible ASCII and obs-text (no CR, LF, NUL or other control).
 */
function parseHead(bytes: Buffer, end: number, limits: HeadLimits): ResponseHead {
  let ok = end >= 12 && startsWith(bytes, HTTP1, 0);
  const minor = bytes[7]!;
  ok &&= (minor === 0x30 || minor === 0x31) && bytes[8] === SP;
  const d0 = bytes[9]! - 0x30;
  const d1 = bytes[10]! - 0x30;
  const d2 = bytes[11]! - 0x30;
  ok &&= d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9;
  if (!ok) throw new ForwardError('malformed status line');
  const status = d0 * 100 + d1 * 10 + d2;
  let i = 12;
  let reasonStart = 12;
  if (i < end && bytes[i] === SP) {
    reasonStart = ++i;
    while (i < end && valueByte(bytes[i]!, true)) i++;
  }
  if (i < end && bytes[i] !== CR) throw new ForwardError('malformed status line');
  const text = bytes.toString('latin1', 0, end);
  const fields: number[] = [];
  const head = new ParsedHead(status, text.slice(reasonStart, i), bytes, end + 2, text, fields);
  let length: number | undefined;
  let te: string | undefined;
  let close = minor === 0x30;
  // i: the end of the previous line; each field line is CRLF, token, ':', value
  while (i < end) {
    if (bytes[i] !== CR || bytes[i + 1] !== LF) throw new ForwardError('malformed header line');
    if (fields.length === 4 * limits.maxHeaders)
      throw new ForwardError(`more than ${limits.maxHeaders} header fields`);
    const start = i + 2;
    let j = start;
    while (j < end && TCHAR[bytes[j]!] === 1) j++;
    if (j === start || j === end || bytes[j] !== COLON) {
      // no obs-fold (a line starting with whitespace), no whitespace before the colon (§5.1)
      throw new ForwardError(j === start ? 'malformed header line' : 'malformed header name');
    }
    const nameEnd = j++;
    while (j < end && valueByte(bytes[j]!, true)) j++;
    if (j < end && bytes[j] !== CR)
      throw new ForwardError(`malformed value of header ${text.slice(start, nameEnd)}`);
    i = j;
    let vs = nameEnd + 1;
    while (vs < j && (bytes[vs] === SP || bytes[vs] === HTAB)) vs++;
    while (j > vs && (bytes[j - 1] === SP || bytes[j - 1] === HTAB)) j--;
    fields.push(start, nameEnd, vs, j);
    const field = fieldOf(bytes, start, nameEnd);
    if (field === Field.Other) continue;
    if (field >= Field.TransferEncoding) head.hopLines.push(start - 2, i);
    switch (field) {
      case Field.Date:
        head.hasDate = true;
        break;
      case Field.ContentLength: {
        const n = digits(bytes, vs, j);
        // a list of identical values is one length (§6.3 point 5); anything else is an error
        for (const t of n >= 0 ? [n] : text.slice(vs, j).split(',').map(lengthOf)) {
          if (length !== undefined && length !== t) throw new ForwardError('conflicting Content-Length');
          length = t;
        }
        break;
      }
      case Field.TransferEncoding: {
        const value = text.slice(vs, j);
        te = te === undefined ? value : `${te}, ${value}`;
        break;
      }
      case Field.Connection:
        if (equalsLower(bytes, vs, j, KEEP_ALIVE)) {
          if (minor === 0x30) close = false;
        } else if (equalsLower(bytes, vs, j, CLOSE)) close = true;
        else
          for (const t of text.slice(vs, j).split(',')) {
            const token = t.trim().toLowerCase();
            if (token === 'close') close = true;
            else if (token === 'keep-alive' && minor === 0x30) close = false;
          }
        break;
    }
  }
  head.close = close;
  head.framing = framingOf(status, length, te);
  head.hasLength = length !== undefined;
  return head;
}

/** §6.3: 1xx, 204 and 304 have no body; Transfer-Encoding wins over Content-Length. */
function framingOf(status: number, length: number | undefined, te: string | undefined): Framing {
  if (status < 200 || status === 204 || status === 304) return { kind: 'none' };
  if (te !== undefined) {
    if (length !== undefined) throw new ForwardError('both Transfer-Encoding and Content-Length');
    const codings = te.split(',').map((c) => c.trim().toLowerCase());
    // chunked must be the final coding; a response without it runs to the close
    if (codings.slice(0, -1).includes('chunked')) throw new ForwardError('chunked applied twice or not last');
    return codings[codings.length - 1] === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  }
  if (length !== undefined) return length === 0 ? { kind: 'none' } : { kind: 'length', length };
  return { kind: 'close' };
}
