/** A small seeded PRNG so fuzz runs are reproducible: the seed is printed on failure. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** Random bytes, or a random mutation of `base` (flips, cuts, insertions). */
export function fuzzBytes(rnd: () => number, base?: Buffer): Buffer {
  if (!base || rnd() < 0.3)
    return Buffer.from(Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256)));
  const b = Buffer.from(base);
  const edits = 1 + Math.floor(rnd() * 4);
  let out = b;
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rnd() * (out.length + 1));
    const kind = rnd();
    if (kind < 0.4 && out.length) out[Math.min(at, out.length - 1)] = Math.floor(rnd() * 256);
    else if (kind < 0.7) out = out.subarray(0, at);
    else out = Buffer.concat([out.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), out.subarray(at)]);
  }
  return out;
}
