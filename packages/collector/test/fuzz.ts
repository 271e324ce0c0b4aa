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

/** A small seeded generator (mulberry32), so a fuzz run that failed can be replayed from its seed. */
export interface Rng {
  seed: number;
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [min, max). */
  int(min: number, max: number): number;
  pick<T>(list: readonly T[]): T;
  bytes(n: number): Buffer;
}

/** A generator seeded from `FUZZ_SEED` when set, else from the clock; the seed goes in failure messages. */
export function seededRng(seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min));
  return {
    seed,
    next,
    int,
    pick: (list) => list[int(0, list.length)]!,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(0, 256))),
  };
}
