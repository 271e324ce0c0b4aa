import type { SplitResult } from './split.js';

/**
 * Splits a syslog TCP stream with RFC 6587 framing, detected per frame: octet counting
 * (`MSG-LEN SP SYSLOG-MSG`, §3.4.1) when a frame starts with a digit, otherwise non-transparent
 * framing with LF as the trailer (§3.4.2). Pure and incremental; a frame whose declared or
 * accumulated length passes `maxFrame` is rejected as soon as that is known and skipped.
 */
export class SyslogFrameSplitter {
  private tail: Buffer = Buffer.alloc(0);
  /** Bytes still to skip from an oversized octet-counted frame. */
  private skip = 0;
  /** Skipping an oversized LF-framed message up to the next LF. */
  private skipLine = false;

  /**
   * `framing` fixes one RFC 6587 framing instead of detecting it per frame (fluent-bit's `frame`):
   * with `newline` a line starting with digits is a message, with `octet_counting` a frame that does
   * not start with a length is rejected up to the next LF.
   */
  constructor(
    private readonly maxFrame: number,
    private readonly framing: 'auto' | 'newline' | 'octet_counting' = 'auto',
  ) {}

  push(chunk: Buffer): SplitResult {
    const frames: Buffer[] = [];
    const rejected = this.scan(chunk, (buf, start, end) => frames.push(buf.subarray(start, end)));
    return { frames, rejected };
  }

  /**
   * `push` without a Buffer per frame: `onFrame` gets each complete frame as `buf[start, end)`
   * (valid during the call only); returns what was rejected.
   */
  scan(chunk: Buffer, onFrame: (buf: Buffer, start: number, end: number) => void): SplitResult['rejected'] {
    const out: Pick<SplitResult, 'rejected'> = { rejected: [] };
    let buf = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    let p = 0;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length - p);
        this.skip -= n;
        p += n;
        if (this.skip > 0) break;
      }
      if (this.skipLine) {
        const lf = buf.indexOf(0x0a, p);
        if (lf < 0) {
          p = buf.length;
          break;
        }
        this.skipLine = false;
        p = lf + 1;
      }
      // Skip stray CR/LF between frames.
      while (p < buf.length && (buf[p] === 0x0a || buf[p] === 0x0d)) p++;
      if (p >= buf.length) break;
      const c = buf[p]!;
      if (this.framing === 'octet_counting' && !(c >= 0x31 && c <= 0x39)) {
        out.rejected.push({ reason: 'garbage', bytes: 1 });
        this.skipLine = true;
        continue;
      }
      if (this.framing !== 'newline' && c >= 0x31 && c <= 0x39) {
        // Octet counting: up to 9 digits then SP.
        let q = p;
        let len = 0;
        while (q < buf.length && q - p < 10 && buf[q]! >= 0x30 && buf[q]! <= 0x39)
          len = len * 10 + (buf[q++]! - 0x30);
        if (q >= buf.length) break; // need more bytes
        if (buf[q] !== 0x20 || q - p > 9) {
          out.rejected.push({ reason: 'garbage', bytes: q - p });
          this.skipLine = true;
          p = q;
          continue;
        }
        if (len > this.maxFrame) {
          out.rejected.push({ reason: 'too_large', bytes: len });
          this.skip = len;
          p = q + 1;
          continue;
        }
        if (buf.length - (q + 1) < len) break; // wait for the whole frame
        onFrame(buf, q + 1, q + 1 + len);
        p = q + 1 + len;
        continue;
      }
      const lf = buf.indexOf(0x0a, p);
      if (lf < 0) {
        if (buf.length - p > this.maxFrame) {
          out.rejected.push({ reason: 'too_large', bytes: buf.length - p });
          this.skipLine = true;
          p = buf.length;
        }
        break;
      }
      if (lf - p > this.maxFrame) out.rejected.push({ reason: 'too_large', bytes: lf - p });
      else onFrame(buf, p, buf[lf - 1] === 0x0d ? lf - 1 : lf);
      p = lf + 1;
    }
    buf = buf.subarray(p);
    this.tail = Buffer.from(buf);
    return out.rejected;
  }

  pending(): number {
    return this.tail.length;
  }
}
