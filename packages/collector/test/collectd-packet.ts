/** A small encoder of collectd's binary protocol for test packets (the "Binary protocol" wiki page layout). */
export const part = (type: number, body: Buffer) => {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(body.length + 4, 2);
  return Buffer.concat([h, body]);
};
export const str = (type: number, s: string) => part(type, Buffer.from(s + '\0'));
export const num = (type: number, n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return part(type, b);
};
/** A values part: [kind, value] pairs (0 COUNTER, 1 GAUGE, 2 DERIVE, 3 ABSOLUTE). */
export const values = (vs: Array<[number, number]>) => {
  const b = Buffer.alloc(2 + vs.length * 9);
  b.writeUInt16BE(vs.length, 0);
  vs.forEach(([kind, v], i) => {
    b[2 + i] = kind;
    const off = 2 + vs.length + i * 8;
    if (kind === 1) b.writeDoubleLE(v, off);
    else if (kind === 2) b.writeBigInt64BE(BigInt(v), off);
    else b.writeBigUInt64BE(BigInt(v), off);
  });
  return part(6, b);
};
