/**
 * An incremental HTTP/1.1 response-head parser for the raw forwarding path (RFC 9112 §4–6):
 * bytes are fed as they arrive; once the blank line is in, the status, the raw header list and
 * the body's framing come back. Anything malformed or over the limits throws a `ForwardError`,
 * which the forwarder answers with a coded 502.
 */

import { HOP_BY_HOP } from '../http-util.js';

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
  status: number;
  reason: string;
  /** [name, value, …] as sent (names keep their case). */
  rawHeaders: string[];
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
   * the status line and every field line, each with its CRLF. Set by `ResponseHeadParser`.
   */
  bytes: Buffer | undefined;
  fieldsEnd: number;
  /** [start, end) byte ranges of `bytes` holding hop-by-hop field lines (CRLF included), in order. */
  hopLines: number[];
}

/** Lengths of the hop-by-hop names, and of Content-Length and Date, which the parser also reads. */
const NOTED_LENGTHS = new Set([2, 4, 7, 10, 14, 16, 17]);

/** A malformed or over-limit response from an instance. */
export class ForwardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardError';
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// field-value: visible characters, spaces, tabs and obs-text; no CR, LF or NUL
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Every field line after the status line well-formed at once (sticky: set lastIndex first). */
const FIELD_LINES = /(?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*)*$/y;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

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
    const end = all.indexOf('\r\n\r\n', from, 'latin1');
    if (end < 0) {
      if (this.size > this.limits.maxHeadBytes)
        throw new ForwardError(`response head over ${this.limits.maxHeadBytes} bytes`);
      return undefined;
    }
    if (end + 4 > this.limits.maxHeadBytes)
      throw new ForwardError(`response head over ${this.limits.maxHeadBytes} bytes`);
    const head = parseHead(all.toString('latin1', 0, end), this.limits);
    head.bytes = all;
    head.fieldsEnd = end + 2;
    this.parts = [];
    this.size = 0;
    return { head, rest: all.subarray(end + 4) };
  }
}

/** Parses a complete head (without its blank line). */
function parseHead(text: string, limits: HeadLimits = HEAD_LIMITS): ResponseHead {
  const lines = text.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (!m) throw new ForwardError('malformed status line');
  const status = Number(m[2]);
  if (lines.length - 1 > limits.maxHeaders)
    throw new ForwardError(`more than ${limits.maxHeaders} header fields`);
  const rawHeaders: string[] = [];
  let length: number | undefined;
  let te: string | undefined;
  let close = m[1] === '0';
  let hasDate = false;
  const hopLines: number[] = [];
  // where the current line starts in the head (latin1: one character a byte)
  let at = lines[0]!.length + 2;
  // the usual head passes one test for all its lines; one that fails is checked line by line
  FIELD_LINES.lastIndex = lines[0]!.length;
  const checked = FIELD_LINES.test(text);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const start = at;
    at += line.length + 2;
    const colon = line.indexOf(':');
    // no obs-fold (a line starting with whitespace), no whitespace before the colon (§5.1)
    if (colon <= 0) throw new ForwardError('malformed header line');
    const name = line.slice(0, colon);
    if (!checked && !TOKEN.test(name)) throw new ForwardError('malformed header name');
    const value = line.slice(colon + 1).trim();
    if (!checked && !FIELD_VALUE.test(value)) throw new ForwardError(`malformed value of header ${name}`);
    rawHeaders.push(name, value);
    if (!NOTED_LENGTHS.has(name.length)) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) hopLines.push(start, at);
    switch (lower) {
      case 'date':
        hasDate = true;
        break;
      case 'content-length': {
        // a list of identical values is one length (§6.3 point 5); anything else is an error
        for (const v of value.split(',')) {
          const t = v.trim();
          if (!/^\d{1,15}$/.test(t)) throw new ForwardError('malformed Content-Length');
          if (length !== undefined && length !== Number(t))
            throw new ForwardError('conflicting Content-Length');
          length = Number(t);
        }
        break;
      }
      case 'transfer-encoding':
        te = te === undefined ? value : `${te}, ${value}`;
        break;
      case 'connection':
        for (const t of value.split(',')) {
          const token = t.trim().toLowerCase();
          if (token === 'close') close = true;
          else if (token === 'keep-alive' && m[1] === '0') close = false;
        }
        break;
    }
  }
  return {
    status,
    reason: m[3] ?? '',
    rawHeaders,
    close,
    framing: framingOf(status, length, te),
    hasLength: length !== undefined,
    hasDate,
    bytes: undefined,
    fieldsEnd: 0,
    hopLines,
  };
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
