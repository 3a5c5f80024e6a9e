const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/** Murmur3's finaliser: a bijective 32-bit mix with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * xoshiro128** (Blackman and Vigna): a small, fast PRNG with 128 bits of state and period
 * 2^128 − 1. Good statistical quality for sampling; not for cryptography.
 */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * Seeds the generator from a list of non-negative safe integers (e.g. `[seed, rank, epoch]`).
   * Different lists give unrelated streams; the same list always gives the same stream.
   *
   * @throws Error if a key is not a non-negative safe integer.
   */
  constructor(key: readonly number[]) {
    const words: number[] = [key.length];
    key.forEach((k, i) => {
      if (!Number.isSafeInteger(k) || k < 0) {
        throw new Error(`PRNG key[${i}] must be a non-negative safe integer, got ${String(k)}`);
      }
      words.push(k >>> 0, Math.floor(k / TWO_32));
    });
    // Four independent hashes of the key (different salts) fill the 128-bit state, then the
    // splitmix-style chain spreads every key word over every state word.
    const lane = (salt: number): number => {
      let h = fmix32(salt);
      for (const w of words) h = fmix32((h ^ w) + 0x9e3779b9);
      return h;
    };
    this.s0 = lane(0x243f6a88);
    this.s1 = lane(0x85a308d3);
    this.s2 = lane(0x13198a2e);
    this.s3 = lane(0x03707344);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /**
   * A generator starting from an explicit state (four 32-bit words, not all zero), as in the
   * reference C code; useful to compare against its published output.
   *
   * @throws Error if a word is not a 32-bit unsigned integer or all four are zero.
   */
  static fromState(state: readonly [number, number, number, number]): Xoshiro128 {
    state.forEach((w, i) => {
      if (!Number.isInteger(w) || w < 0 || w >= TWO_32) {
        throw new Error(`Xoshiro128 state[${i}] must be a 32-bit unsigned integer, got ${String(w)}`);
      }
    });
    if (state.every((w) => w === 0)) throw new Error('Xoshiro128 state must not be all zero');
    const g = new Xoshiro128([]);
    [g.s0, g.s1, g.s2, g.s3] = state.map((w) => w | 0);
    return g;
  }

  /** Next 32 random bits as an unsigned integer in `[0, 2^32)`. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in `[0, 1)` with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_53;
  }

  /**
   * A uniform integer in `[0, n)`, without modulo bias (rejection sampling).
   *
   * @param n - A positive safe integer.
   * @throws Error if `n` is not a positive safe integer.
   */
  nextInt(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1)
      throw new Error(`nextInt: n must be a positive safe integer, got ${n}`);
    if (n <= TWO_32) {
      // Accept only draws below the largest multiple of n that fits in 32 bits.
      const limit = TWO_32 - (TWO_32 % n);
      for (;;) {
        const x = this.nextUint32();
        if (x < limit) return x % n;
      }
    }
    const limit = TWO_53 - (TWO_53 % n);
    for (;;) {
      const x = (this.nextUint32() >>> 11) * TWO_32 + this.nextUint32(); // 53 bits
      if (x < limit) return x % n;
    }
  }
}
