import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../src/data/rng.js';
import { binomialMeanAbsDeviation, l1NoiseFloor, lnGamma, histogramCounts } from '../src/simulate/histogram.js';
import { reflect } from '../src/simulate/em.js';
import { Grid } from '../solvers/grid.js';

describe('xoshiro128** generator', () => {
  it('matches the reference C implementation (Blackman & Vigna, prng.di.unimi.it/xoshiro128starstar.c)', () => {
    // Outputs of the reference C code compiled with gcc from the state {1, 2, 3, 4}.
    const g = Xoshiro128.fromState([1, 2, 3, 4]);
    expect(Array.from({ length: 8 }, () => g.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
    // The reference jump() from {1, 2, 3, 4}, then four outputs.
    const j = Xoshiro128.fromState([1, 2, 3, 4]);
    j.jump();
    expect(Array.from({ length: 4 }, () => j.nextU32())).toEqual([1194304935, 745561276, 25819468, 3320478005]);
  });

  it('is seeded by SplitMix64 (reference outputs for seed 1: 10451216379200822465, 13757245211066428519)', () => {
    const a = 10451216379200822465n;
    const b = 13757245211066428519n;
    const words = [a & 0xffffffffn, a >> 32n, b & 0xffffffffn, b >> 32n].map((w) => Number(w)) as [number, number, number, number];
    const seeded = new Xoshiro128(1);
    const manual = Xoshiro128.fromState(words);
    for (let i = 0; i < 16; i++) expect(seeded.nextU32()).toBe(manual.nextU32());
  });

  it('uniforms and normals have the right moments (within 5 standard errors)', () => {
    const N = 400000;
    const g = new Xoshiro128(7);
    let s1 = 0;
    let s2 = 0;
    let outside = 0;
    for (let i = 0; i < N; i++) {
      const u = g.nextDouble();
      if (!(u >= 0 && u < 1)) outside++;
      s1 += u;
      s2 += u * u;
    }
    expect(outside).toBe(0);
    // U(0,1): mean 1/2 (sd of the mean sqrt(1/12/N)), E u² = 1/3 (sd of u² is sqrt(4/45)).
    expect(Math.abs(s1 / N - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(s2 / N - 1 / 3)).toBeLessThan(5 * Math.sqrt(4 / 45 / N));
    // N(0,1) moments 0, 1, 0, 3 with standard errors sqrt(1/N), sqrt(2/N), sqrt(15/N), sqrt(96/N).
    for (const fill of [true, false]) {
      const z = new Float64Array(N);
      if (fill) g.fillNormal(z);
      else for (let i = 0; i < N; i++) z[i] = g.nextNormal();
      const m = [0, 0, 0, 0];
      for (const v of z) {
        m[0] += v;
        m[1] += v * v;
        m[2] += v * v * v;
        m[3] += v * v * v * v;
      }
      const [m1, m2, m3, m4] = m.map((x) => x / N);
      expect(Math.abs(m1!)).toBeLessThan(5 * Math.sqrt(1 / N));
      expect(Math.abs(m2! - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
      expect(Math.abs(m3!)).toBeLessThan(5 * Math.sqrt(15 / N));
      expect(Math.abs(m4! - 3)).toBeLessThan(5 * Math.sqrt(96 / N));
    }
  });

  it('nextInt is uniform (chi-square over 7 bins below the 0.999 quantile 22.46)', () => {
    const g = new Xoshiro128(3);
    const counts = new Array<number>(7).fill(0);
    const N = 70000;
    for (let i = 0; i < N; i++) counts[g.nextInt(7)]! += 1;
    const chi2 = counts.reduce((a, c) => a + (c - N / 7) ** 2 / (N / 7), 0);
    expect(chi2).toBeLessThan(22.46);
  });
});

describe('Monte-Carlo noise floor', () => {
  it('lnGamma matches log factorials', () => {
    let lf = 0;
    for (let n = 1; n <= 170; n++) {
      lf += Math.log(n);
      expect(Math.abs(lnGamma(n + 1) - lf)).toBeLessThan(1e-12 * Math.max(1, lf));
    }
    expect(Math.abs(lnGamma(0.5) - 0.5 * Math.log(Math.PI))).toBeLessThan(1e-14);
  });

  it("de Moivre's E|X − Np| equals the direct sum over the binomial pmf", () => {
    for (const [N, p] of [[50, 0.3], [50, 0.013], [1000, 0.5], [1000, 0.0007], [200, 0.999]] as const) {
      let direct = 0;
      let lp = N * Math.log1p(-p); // log pmf at k = 0
      for (let k = 0; k <= N; k++) {
        direct += Math.exp(lp) * Math.abs(k - N * p);
        lp += Math.log((N - k) / (k + 1)) + Math.log(p / (1 - p));
      }
      expect(Math.abs(binomialMeanAbsDeviation(N, p) - direct)).toBeLessThan(1e-10 * Math.max(direct, 1e-300));
    }
    // Large Np: the normal limit sqrt(2Np(1-p)/π).
    const N = 1e5;
    expect(binomialMeanAbsDeviation(N, 0.2) / Math.sqrt((2 * N * 0.2 * 0.8) / Math.PI)).toBeCloseTo(1, 3);
  });

  it('the floor is the mean L1 of histograms drawn from the density itself', () => {
    const grid = new Grid([[0, 1]], [40]);
    const p = new Float64Array(40);
    for (let i = 0; i < 40; i++) p[i] = Math.exp(-(((i - 12) / 4) ** 2));
    const s = p.reduce((a, b) => a + b, 0);
    for (let i = 0; i < 40; i++) p[i]! /= s;
    const cdf = Array.from(p, ((acc) => (v: number) => (acc += v))(0));
    const g = new Xoshiro128(11);
    const N = 2000;
    const reps = 300;
    let mean = 0;
    const x = [new Float64Array(N)];
    for (let r = 0; r < reps; r++) {
      for (let j = 0; j < N; j++) {
        const u = g.nextDouble();
        let k = cdf.findIndex((c) => c > u);
        if (k < 0) k = 39;
        x[0]![j] = (k + 0.5) / 40;
      }
      const c = histogramCounts(grid, x);
      let l1 = 0;
      for (let i = 0; i < 40; i++) l1 += Math.abs(c[i]! / N - p[i]!);
      mean += l1 / reps;
    }
    // 300 repetitions: the sample mean of L1 is within ~1% of its expectation.
    expect(Math.abs(mean / l1NoiseFloor(p, N) - 1)).toBeLessThan(0.03);
  });

  it('reflect mirrors at the walls, for any distance', () => {
    expect(reflect(-0.25, 0, 1)).toBeCloseTo(0.25, 15);
    expect(reflect(1.25, 0, 1)).toBeCloseTo(0.75, 15);
    expect(reflect(2.25, 0, 1)).toBeCloseTo(0.25, 15);
    expect(reflect(-3.5, -1, 1)).toBeCloseTo(0.5, 15);
    expect(reflect(0.3, 0, 1)).toBe(0.3);
  });
});
