import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

/** What the raw listener's connection learns from a response it carries. */
export interface ResponseOwner {
  readonly socket: Socket;
  /** The response was written out (`closeAfter`: the connection ends after it). */
  finished(res: RawResponse): void;
}

// Names that change how a response is framed or whether the connection stays, by length.
const FRAMING_NAME_LENGTHS = new Set([4, 10, 14, 17]);
const BAD_VALUE = /[\r\n\0]/;

let dateLine = '';
let dateAt = 0;
/** `Date: …\r\n` for now, made at most once a second (as Node's server does). */
function date(): string {
  const now = Date.now();
  if (now - dateAt >= 1000 || dateLine === '') {
    dateAt = now - (now % 1000);
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

/**
 * The response half of a request the raw listener parsed: the subset of `ServerResponse` the
 * gateway's request path uses (writeHead with a header list or object, write with backpressure,
 * end, flushHeaders, destroy, the state flags, 'close' and 'drain'), writing HTTP/1.1 straight to
 * the socket: the head kept until the first body bytes or the end so a small response is one
 * write, chunked framing when no Content-Length is given, keep-alive headers as Node writes them.
 */
export class RawResponse {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writableFinished = false;
  /** The connection ends after this response (a `Connection: close` header was given). */
  closeAfter = false;
  /** The head not written yet (after the passed bytes, when passHead gave some). */
  private head: string | undefined;
  /** passHead's instance bytes, their end and the ranges left out. */
  private passed: Buffer | undefined;
  private passedEnd = 0;
  private passedDrop: readonly number[] = [];
  private chunked = false;
  private bodyless: boolean;
  private closeListeners: (() => void)[] | undefined;
  private drainListeners: (() => void)[] | undefined;

  constructor(
    private readonly owner: ResponseOwner,
    headRequest: boolean,
    /** `Connection: keep-alive` and `Keep-Alive: timeout=…` lines, as this listener sends them. */
    private readonly keepAliveLines: string,
  ) {
    this.bodyless = headRequest;
  }

  writeHead(
    status: number,
    reason?: string | OutgoingHttpHeaders | string[],
    headers?: OutgoingHttpHeaders | string[],
  ): this {
    if (this.headersSent) throw new Error('writeHead after the head was written');
    if (typeof reason !== 'string') {
      headers = reason;
      reason = undefined;
    }
    this.statusCode = status;
    if (status < 200 || status === 204 || status === 304) this.bodyless = true;
    let out = `HTTP/1.1 ${status} ${reason || STATUS_CODES[status] || 'unknown'}\r\n`;
    let hasLength = false;
    let hasDate = false;
    let connection = false;
    const field = (name: string, value: string) => {
      if (FRAMING_NAME_LENGTHS.has(name.length)) {
        const lower = name.toLowerCase();
        if (lower === 'content-length') hasLength = true;
        else if (lower === 'date') hasDate = true;
        else if (lower === 'transfer-encoding') {
          if (/chunked/i.test(value) && !this.bodyless) this.chunked = true;
        } else if (lower === 'connection') {
          connection = true;
          if (/close/i.test(value)) this.closeAfter = true;
        }
      }
      out += `${name}: ${value}\r\n`;
    };
    if (Array.isArray(headers)) {
      // a list from the instance's response: names and values already checked by the parser
      for (let i = 0; i < headers.length; i += 2) field(headers[i]!, headers[i + 1]!);
    } else if (headers) {
      for (const name in headers) {
        const v = headers[name];
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [String(v)]) {
          if (BAD_VALUE.test(name) || BAD_VALUE.test(one))
            throw new TypeError(`invalid character in header ${JSON.stringify(name)}`);
          field(name, one);
        }
      }
    }
    if (!hasDate) out += date();
    if (!connection) {
      out += this.closeAfter ? 'Connection: close\r\n' : this.keepAliveLines;
    }
    if (!hasLength && !this.bodyless && !this.chunked) {
      this.chunked = true;
      out += 'Transfer-Encoding: chunked\r\n';
    }
    this.head = out + '\r\n';
    this.headersSent = true;
    return this;
  }

  /**
   * Takes the head of an instance's response as its bytes came instead of a header list:
   * `bytes[0, end)` is its status line and field lines, each with its CRLF (names and values
   * checked by the forwarding parser). The hop-by-hop lines `drop` lists ([start, end) pairs, in
   * order) are left out, the status line says HTTP/1.1, and `extra`, a Date when there was none
   * and this connection's Connection and Keep-Alive lines are added, as writeHead would. Only for
   * a response framed by a Content-Length (the caller's check): nothing in it changes how the
   * response is written. The bytes are read when the head goes out (with the first body bytes).
   */
  passHead(
    status: number,
    bytes: Buffer,
    end: number,
    drop: readonly number[],
    hasDate: boolean,
    extra?: readonly [string, string],
  ): this {
    if (this.headersSent) throw new Error('writeHead after the head was written');
    this.statusCode = status;
    this.passed = bytes;
    this.passedEnd = end;
    this.passedDrop = drop;
    this.head =
      (extra === undefined ? '' : `${extra[0]}: ${extra[1]}\r\n`) +
      (hasDate ? '' : date()) +
      this.keepAliveLines +
      '\r\n';
    this.headersSent = true;
    return this;
  }

  /** A buffer of the passed head (see passHead) and `room` bytes after it, for the body. */
  private passedHead(tail: string, room: number): Buffer {
    const bytes = this.passed!;
    const drop = this.passedDrop;
    this.passed = undefined;
    let size = this.passedEnd + tail.length + room;
    for (let i = 0; i < drop.length; i += 2) size -= drop[i + 1]! - drop[i]!;
    const out = Buffer.allocUnsafe(size);
    out.write('HTTP/1.1', 0, 'latin1');
    let pos = 8;
    let from = 8; // after the instance's HTTP-version
    for (let i = 0; i < drop.length; i += 2) {
      pos += bytes.copy(out, pos, from, drop[i]);
      from = drop[i + 1]!;
    }
    pos += bytes.copy(out, pos, from, this.passedEnd);
    out.write(tail, pos, 'latin1');
    return out;
  }

  /** Writes the head now (a streamed response whose first bytes may be a while). */
  flushHeaders(): void {
    if (!this.headersSent) this.writeHead(this.statusCode);
    if (this.head === undefined || this.destroyed) return;
    if (this.passed) this.owner.socket.write(this.passedHead(this.head, 0));
    else this.owner.socket.write(this.head, 'latin1');
    this.head = undefined;
  }

  write(chunk: Buffer | string): boolean {
    if (this.destroyed || this.writableEnded) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.bodyless || data.length === 0) {
      this.flushHeaders();
      return true;
    }
    const ok = this.send(data, false);
    if (!ok) this.owner.socket.once('drain', () => this.emit(this.drainListeners));
    return ok;
  }

  end(chunk?: Buffer | string): this {
    if (this.destroyed || this.writableEnded) return this;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const data = chunk === undefined ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.send(this.bodyless ? undefined : data, true);
    this.writableEnded = true;
    this.writableFinished = true;
    this.owner.finished(this);
    this.emit(this.closeListeners);
    return this;
  }

  /** Cuts the connection (a response that cannot be completed). */
  destroy(): this {
    if (!this.destroyed) this.owner.socket.destroy();
    return this;
  }

  /** The connection closed before the response ended. */
  gone(): void {
    if (this.destroyed || this.writableEnded) return;
    this.destroyed = true;
    this.emit(this.closeListeners);
  }

  once(event: string, listener: () => void): this {
    return this.on(event, listener);
  }

  on(event: string, listener: () => void): this {
    // each event happens once for a response
    if (event === 'close') (this.closeListeners ??= []).push(listener);
    else if (event === 'drain') (this.drainListeners ??= []).push(listener);
    return this;
  }

  private emit(list: (() => void)[] | undefined): void {
    if (!list) return;
    const fns = list.splice(0);
    for (const fn of fns) fn();
  }

  /** Body bytes (framed) and, when `last`, the end of the body; the pending head goes first. */
  private send(data: Buffer | undefined, last: boolean): boolean {
    const socket = this.owner.socket;
    const head = this.head ?? '';
    this.head = undefined;
    const n = data?.length ?? 0;
    if (this.passed) {
      // passHead: Content-Length framing; the head and the body in one buffer
      const out = this.passedHead(head, n);
      if (n > 0) data!.copy(out, out.length - n);
      return socket.write(out);
    }
    if (!this.chunked) {
      if (n === 0) return head === '' || socket.write(head, 'latin1');
      if (head === '') return socket.write(data!);
      // head and body in one buffer: one write
      const out = Buffer.allocUnsafe(head.length + n);
      out.write(head, 0, 'latin1');
      data!.copy(out, head.length);
      return socket.write(out);
    }
    const size = n > 0 ? `${n.toString(16)}\r\n` : '';
    const tail = (n > 0 ? '\r\n' : '') + (last ? '0\r\n\r\n' : '');
    const pre = head + size;
    const out = Buffer.allocUnsafe(pre.length + n + tail.length);
    out.write(pre, 0, 'latin1');
    if (n > 0) data!.copy(out, pre.length);
    out.write(tail, pre.length + n, 'latin1');
    return socket.write(out);
  }
}
