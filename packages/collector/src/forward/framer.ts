import { ForwardError } from './codec.js';

const MAX_DEPTH = 512;

/**
 * Cuts a TCP byte stream into whole msgpack objects without decoding them. The scan resumes where
 * it stopped when more bytes arrive (no rescans), and bytes are kept in one growing buffer, so a
 * large message arriving in many reads costs linear time. An object larger than `max` bytes is
 * refused as soon as its size is known (or once `max` bytes are pending).
 */
export class MsgpackFramer {
  private buf: Buffer = Buffer.alloc(0);
  private len = 0;
  private off = 0;
  private remaining = 1;
  private stack: number[] = [];

  constructor(private readonly max: number) {}

  /** Bytes received but not yet part of a whole object. */
  pending(): number {
    return this.len;
  }

  /** Adds bytes; returns the whole objects now available (each a copy), or throws ForwardError. */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const frames: Buffer[] = [];
    for (;;) {
      const end = this.scan();
      if (end < 0) break;
      frames.push(Buffer.from(this.buf.subarray(0, end)));
      this.buf.copy(this.buf, 0, end, this.len);
      this.len -= end;
      this.off = 0;
      this.remaining = 1;
      this.stack = [];
    }
    if (this.len > this.max) {
      throw new ForwardError('too_large', `message exceeds buffer_max_size (${this.max} bytes)`);
    }
    return frames;
  }

  private append(chunk: Buffer): void {
    if (this.len + chunk.length > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.len + chunk.length, this.buf.length * 2, 4096));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
  }

  /** Advances over whole items; returns the end offset of a complete object, or -1 for more bytes. */
  private scan(): number {
    const b = this.buf;
    const len = this.len;
    while (this.remaining > 0) {
      const at = this.off;
      if (at >= len) return -1;
      const t = b[at]!;
      let head = 1;
      let body = 0;
      let children = 0;
      const need = (n: number) => at + n <= len;
      if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
        // fixint, nil, bool
      } else if (t >= 0x80 && t <= 0x8f) children = (t & 0x0f) * 2;
      else if (t >= 0x90 && t <= 0x9f) children = t & 0x0f;
      else if (t >= 0xa0 && t <= 0xbf) body = t & 0x1f;
      else {
        switch (t) {
          case 0xc4:
          case 0xd9:
            if (!need(2)) return -1;
            head = 2;
            body = b[at + 1]!;
            break;
          case 0xc5:
          case 0xda:
            if (!need(3)) return -1;
            head = 3;
            body = b.readUInt16BE(at + 1);
            break;
          case 0xc6:
          case 0xdb:
            if (!need(5)) return -1;
            head = 5;
            body = b.readUInt32BE(at + 1);
            break;
          case 0xc7:
            if (!need(2)) return -1;
            head = 3;
            body = b[at + 1]!;
            break;
          case 0xc8:
            if (!need(3)) return -1;
            head = 4;
            body = b.readUInt16BE(at + 1);
            break;
          case 0xc9:
            if (!need(5)) return -1;
            head = 6;
            body = b.readUInt32BE(at + 1);
            break;
          case 0xca:
          case 0xce:
          case 0xd2:
            head = 5;
            break;
          case 0xcb:
          case 0xcf:
          case 0xd3:
            head = 9;
            break;
          case 0xcc:
          case 0xd0:
            head = 2;
            break;
          case 0xcd:
          case 0xd1:
            head = 3;
            break;
          case 0xd4:
            head = 3;
            break;
          case 0xd5:
            head = 4;
            break;
          case 0xd6:
            head = 6;
            break;
          case 0xd7:
            head = 10;
            break;
          case 0xd8:
            head = 18;
            break;
          case 0xdc:
            if (!need(3)) return -1;
            head = 3;
            children = b.readUInt16BE(at + 1);
            break;
          case 0xdd:
            if (!need(5)) return -1;
            head = 5;
            children = b.readUInt32BE(at + 1);
            break;
          case 0xde:
            if (!need(3)) return -1;
            head = 3;
            children = b.readUInt16BE(at + 1) * 2;
            break;
          case 0xdf:
            if (!need(5)) return -1;
            head = 5;
            children = b.readUInt32BE(at + 1) * 2;
            break;
          default: // 0xc1 is never used
            throw new ForwardError('decode', `invalid msgpack type byte 0x${t.toString(16)} at offset ${at}`);
        }
      }
      const end = at + head + body;
      if (end > this.max) {
        throw new ForwardError('too_large', `message exceeds buffer_max_size (${this.max} bytes)`);
      }
      if (end > len) return -1;
      this.off = end;
      this.remaining--;
      if (children > 0) {
        if (this.stack.length >= MAX_DEPTH) {
          throw new ForwardError('decode', `msgpack nested deeper than ${MAX_DEPTH} levels`);
        }
        this.stack.push(this.remaining);
        this.remaining = children;
      }
      while (this.remaining === 0 && this.stack.length) this.remaining = this.stack.pop()!;
    }
    return this.off;
  }
}
