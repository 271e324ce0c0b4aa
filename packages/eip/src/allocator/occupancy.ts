/** Offsets covered by a pool's bitmap: 2^24 (2 MiB at most, grown as it fills). */
export const WINDOW = 2 ** 24;

/**
 * Which addresses of a pool are taken, as a bitmap over offsets from the pool's first address,
 * with a cursor below which every word is full: the lowest free address is found a word (32
 * addresses) at a time instead of probing addresses one by one. Pools larger than the window
 * (IPv6) cover their first 2^24 offsets here; beyond that they are searched address by address.
 */
export class Occupancy {
  private words: Uint32Array;
  /** Every word below this index is full. */
  private cursor = 0;
  private readonly totalWords: number;

  constructor(readonly bits: number) {
    this.totalWords = Math.ceil(bits / 32);
    this.words = new Uint32Array(Math.min(this.totalWords, 128));
  }

  set(offset: number): void {
    const w = offset >>> 5;
    if (w >= this.words.length) {
      const grown = new Uint32Array(Math.min(this.totalWords, Math.max(w + 1, this.words.length * 2)));
      grown.set(this.words);
      this.words = grown;
    }
    this.words[w]! |= 1 << (offset & 31);
  }

  clear(offset: number): void {
    const w = offset >>> 5;
    if (w < this.words.length) this.words[w]! &= ~(1 << (offset & 31));
    if (w < this.cursor) this.cursor = w;
  }

  has(offset: number): boolean {
    const w = offset >>> 5;
    return w < this.words.length && (this.words[w]! & (1 << (offset & 31))) !== 0;
  }

  /** Lowest free offset, or undefined when the window is full. */
  firstFree(): number | undefined {
    const words = this.words;
    for (let w = this.cursor; w < this.totalWords; w++) {
      const word = w < words.length ? words[w]! : 0;
      if (word === 0xffffffff) continue;
      this.cursor = w;
      const offset = w * 32 + 31 - Math.clz32(~word & (word + 1));
      return offset < this.bits ? offset : undefined;
    }
    this.cursor = this.totalWords;
    return undefined;
  }
}
