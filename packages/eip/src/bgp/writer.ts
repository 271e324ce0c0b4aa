import { parseIp } from '../ip.js';
import type { Prefix } from './message-types.js';

// Big-endian fields for building messages.

export const u8 = (v: number) => Buffer.from([v]);

export const u16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};

export const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};

/** An address as 4 or 16 bytes. */
export function ipBytes(text: string): Buffer {
  const ip = parseIp(text);
  const n = ip.family === 4 ? 4 : 16;
  const b = Buffer.alloc(n);
  let v = ip.value;
  for (let i = n - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

/** A prefix as its length and significant bytes. */
export function prefixBytes(p: Prefix): Buffer {
  return Buffer.concat([u8(p.length), ipBytes(p.prefix).subarray(0, Math.ceil(p.length / 8))]);
}
