import { formatIp } from '../ip.js';
import { BgpMessageError, type Prefix } from './message-types.js';
import { AFI } from './wire.js';

/**
 * Reads big-endian fields of one message part, failing with the NOTIFICATION code and subcode of
 * that part and the byte offset in the stream (`base` + position).
 */
export class Reader {
  /** Where the last field read began: the offset reported for a bad value. */
  private at: number;
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    readonly base: number,
    readonly code: number,
    readonly subcode: number,
  ) {
    this.at = pos;
  }
  fail(why: string, code = this.code, subcode = this.subcode): never {
    return this.failAt(this.at, why, code, subcode);
  }
  failAt(pos: number, why: string, code = this.code, subcode = this.subcode): never {
    throw new BgpMessageError(code, subcode, why, this.base + pos);
  }
  need(n: number, what: string): void {
    if (this.pos + n > this.end) this.failAt(this.pos, `${what} runs past the end of the message`);
  }
  u8(what: string): number {
    this.need(1, what);
    this.at = this.pos;
    return this.buf[this.pos++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    this.at = this.pos;
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    this.at = this.pos;
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    this.at = this.pos;
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  sub(n: number, what: string): Reader {
    this.need(n, what);
    this.at = this.pos;
    const r = new Reader(this.buf, this.pos, this.pos + n, this.base, this.code, this.subcode);
    this.pos += n;
    return r;
  }
  get left(): number {
    return this.end - this.pos;
  }
}

/** Prefixes (length, then the significant bytes) until the reader's end. */
export function readPrefixes(r: Reader, afi: number, what: string): Prefix[] {
  const out: Prefix[] = [];
  const bits = afi === AFI.IPV6 ? 128 : 32;
  while (r.left > 0) {
    const length = r.u8(`${what} prefix length`);
    if (length > bits) r.fail(`${what} prefix length ${length} is over ${bits}`);
    const raw = r.bytes(Math.ceil(length / 8), `${what} prefix`);
    const full = Buffer.alloc(bits / 8);
    raw.copy(full);
    let value = 0n;
    for (const b of full) value = (value << 8n) | BigInt(b);
    out.push({ prefix: formatIp({ family: afi === AFI.IPV6 ? 6 : 4, value }), length });
  }
  return out;
}

export function ipFromBytes(b: Buffer): string {
  let value = 0n;
  for (const x of b) value = (value << 8n) | BigInt(x);
  return formatIp({ family: b.length === 4 ? 4 : 6, value });
}
