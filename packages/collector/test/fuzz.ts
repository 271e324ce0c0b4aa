import { randomBytes, randomInt } from 'node:crypto';

/** Runs `body` repeatedly until `ms` passed (at least `min` times); returns the iteration count. */
export function timeBox(ms: number, body: (i: number) => void, min = 50): number {
  const end = Date.now() + ms;
  let i = 0;
  while (i < min || Date.now() < end) body(i++);
  return i;
}

/** Random bytes of random length up to `max`. */
export function noise(max = 512): Buffer {
  return randomBytes(randomInt(0, max + 1));
}

/** Splits `buf` at random points into 1..n pieces. */
export function splitRandomly(buf: Buffer, maxPieces = 8): Buffer[] {
  const cuts = Array.from({ length: randomInt(0, maxPieces) }, () => randomInt(0, buf.length + 1)).sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** Flips a few random bytes of a copy of `buf`. */
export function mutate(buf: Buffer, flips = 3): Buffer {
  const b = Buffer.from(buf);
  if (b.length === 0) return b;
  for (let i = 0; i < flips; i++) b[randomInt(0, b.length)] = randomInt(0, 256);
  return b;
}
