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
