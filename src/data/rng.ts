/**
 * A small seeded generator for Monte-Carlo runs: xoshiro128** (Blackman & Vigna, "Scrambled
 * linear pseudorandom number generators", 2018/2021; reference C at prng.di.unimi.it), seeded by
 * SplitMix64 as its authors recommend. 32-bit state words keep every operation in Math.imul and
 * >>> territory, so it is fast in JS and gives the same stream on every platform. Normals come
 * from Marsaglia's polar method (no trigonometry, both variates of a pair are used).
 *
 * Used by src/data (sampled data sets) and src/simulate; it lives in src/data so that simulate → data is
 * the only edge between the two directories.
 *
 * Same seed, same stream: reports of `fpsolve simulate` depend on nothing else.
 */

const TWO32 = 4294967296;
const MASK64 = (1n << 64n) - 1n;

/** SplitMix64 (Steele, Lea & Flood 2014): turns one seed into well-mixed 64-bit words. */
function splitMix64(seed: bigint): () => bigint {
  let x = seed & MASK64;
  return () => {
    x = (x + 0x9e3779b97f4a7c15n) & MASK64;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  };
}

export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second variate of the last polar pair, or NaN when none is pending. */
  private spare = NaN;

  /** Seeds from an integer (any safe integer; negative seeds are taken modulo 2^64). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer (got ${seed})`);
    const next = splitMix64(BigInt.asUintN(64, BigInt(seed)));
    const a = next();
    const b = next();
    this.s0 = Number(a & 0xffffffffn) | 0;
    this.s1 = Number(a >> 32n) | 0;
    this.s2 = Number(b & 0xffffffffn) | 0;
    this.s3 = Number(b >> 32n) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** A generator with an explicit state (for the reference test vectors). */
  static fromState(state: readonly [number, number, number, number]): Xoshiro128 {
    const g = new Xoshiro128(0);
    [g.s0, g.s1, g.s2, g.s3] = state.map((v) => v | 0) as [number, number, number, number];
    return g;
  }

  /**
   * Advances the state by 2^64 outputs (the reference jump polynomial), giving a stream that does
   * not overlap this one for any feasible run.
   */
  jump(): void {
    const JUMP = [0x8764000b, 0xf542d2d3, 0x6fa035c3, 0x77f2db5b];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (const word of JUMP) {
      for (let b = 0; b < 32; b++) {
        if ((word >>> b) & 1) {
          s0 ^= this.s0;
          s1 ^= this.s1;
          s2 ^= this.s2;
          s3 ^= this.s3;
        }
        this.nextU32();
      }
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    this.spare = NaN;
  }

  /** Next 32-bit output as an unsigned integer. */
  nextU32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), n ≤ 2^32, without modulo bias (Lemire's multiply-shift with rejection). */
  nextInt(n: number): number {
    // For the small n used here (dataset sizes) the rejection zone is below 2^-20 of draws.
    const limit = TWO32 - (TWO32 % n);
    for (;;) {
      const u = this.nextU32();
      if (u < limit) return u % n;
    }
  }

  /** One standard normal variate. */
  nextNormal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    for (;;) {
      const u = 2 * this.nextDouble() - 1;
      const v = 2 * this.nextDouble() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * m;
        return u * m;
      }
    }
  }

  /** Fills `out` with independent standard normals (the hot loop of Euler–Maruyama). */
  fillNormal(out: Float64Array): void {
    const n = out.length;
    let i = 0;
    if (i < n && !Number.isNaN(this.spare)) {
      out[i++] = this.spare;
      this.spare = NaN;
    }
    // The generator is inlined on local copies of the state: a method call per draw costs more than the draw.
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    const SCALE = 1 / 2147483648;
    while (i < n) {
      let m = Math.imul(s1, 5);
      const a = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      let t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      m = Math.imul(s1, 5);
      const b = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      // 32-bit uniforms are enough here: they resolve the polar disc to 2^-31, normals to beyond 6σ.
      const u = (a + 0.5) * SCALE - 1;
      const v = (b + 0.5) * SCALE - 1;
      const q = u * u + v * v;
      if (q >= 1) continue;
      const r = Math.sqrt((-2 * Math.log(q)) / q);
      out[i++] = u * r;
      if (i < n) out[i++] = v * r;
      else this.spare = v * r;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }
}
