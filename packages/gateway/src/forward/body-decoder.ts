import { ForwardError, type Framing } from './response-head.js';

/** Longest chunk-size line accepted (size, extensions and CRLF). */
const MAX_CHUNK_LINE = 4096;
/** Bytes of trailer fields accepted after the last chunk (dropped, not forwarded). */
const MAX_TRAILERS = 16 * 1024;

const enum State {
  Size,
  Data,
  DataEnd,
  Trailers,
  Done,
}

/**
 * Takes a response body off the wire by its framing (RFC 9112 §6–7): counts a Content-Length,
 * decodes chunked, or passes everything on until the close. `push` hands the payload bytes to
 * `onData` and returns true once the body is complete (bytes after it are an error: the instance
 * does not pipeline).
 */
export class BodyDecoder {
  private remaining: number;
  private state = State.Size;
  private line = '';
  private trailerBytes = 0;

  constructor(
    private readonly framing: Framing,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
  }

  get done(): boolean {
    return (
      this.framing.kind === 'none' ||
      (this.framing.kind === 'length' && this.remaining === 0) ||
      this.state === State.Done
    );
  }

  push(buf: Buffer): boolean {
    if (buf.length === 0) return this.done;
    switch (this.framing.kind) {
      case 'none':
        throw new ForwardError('bytes after a response without a body');
      case 'close':
        this.onData(buf);
        return false;
      case 'length':
        if (buf.length > this.remaining) throw new ForwardError('more body bytes than Content-Length');
        this.remaining -= buf.length;
        this.onData(buf);
        return this.remaining === 0;
      case 'chunked':
        return this.chunked(buf);
    }
  }

  private chunked(buf: Buffer): boolean {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case State.Size:
        case State.DataEnd:
        case State.Trailers: {
          const nl = buf.indexOf(10, i);
          const end = nl < 0 ? buf.length : nl + 1;
          this.line += buf.toString('latin1', i, end);
          i = end;
          if (this.line.length > (this.state === State.Trailers ? MAX_TRAILERS : MAX_CHUNK_LINE))
            throw new ForwardError('chunk line or trailers too long');
          if (nl < 0) break;
          if (!this.line.endsWith('\r\n')) throw new ForwardError('bare LF in chunked body');
          this.lineDone(this.line.slice(0, -2));
          this.line = '';
          break;
        }
        case State.Data: {
          const n = Math.min(this.remaining, buf.length - i);
          this.onData(buf.subarray(i, i + n));
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = State.DataEnd;
          break;
        }
        case State.Done:
          throw new ForwardError('bytes after the last chunk');
      }
    }
    return this.state === State.Done;
  }

  private lineDone(line: string): void {
    if (this.state === State.DataEnd) {
      if (line !== '') throw new ForwardError('chunk data longer than its size');
      this.state = State.Size;
    } else if (this.state === State.Size) {
      const semi = line.indexOf(';');
      const hex = (semi < 0 ? line : line.slice(0, semi)).trimEnd();
      if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new ForwardError('malformed chunk size');
      const size = parseInt(hex, 16);
      this.remaining = size;
      this.state = size === 0 ? State.Trailers : State.Data;
    } else {
      this.trailerBytes += line.length + 2;
      if (line === '') this.state = State.Done;
      else if (this.trailerBytes > MAX_TRAILERS) throw new ForwardError('trailers too long');
    }
  }
}
