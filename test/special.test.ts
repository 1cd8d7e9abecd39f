import { describe, expect, it } from 'vitest';
import { erf, erfc, normalInterval } from '../solvers/special.js';

// Reference values: Abramowitz & Stegun Table 7.1 / high-precision erf (mpmath), restated here.
describe('erf / erfc', () => {
  it('matches tabulated values', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(2.9)).toBeCloseTo(0.9999589021219005, 14);
    expect(erfc(3)).toBeCloseTo(2.209049699858544e-5, 18);
    expect(erfc(5) / 1.5374597944280349e-12).toBeCloseTo(1, 12);
    expect(erfc(10) / 2.088487583762545e-45).toBeCloseTo(1, 11);
  });
  it('is exact at the ends and odd', () => {
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erfc(Infinity)).toBe(0);
    expect(erf(-0.7)).toBe(-erf(0.7));
  });
  it('normalInterval sums to 1 over a partition and is accurate in the tails', () => {
    const cuts = [-Infinity, -3, -1, 0, 0.5, 2, 8, Infinity];
    let s = 0;
    for (let i = 0; i + 1 < cuts.length; i++) s += normalInterval(cuts[i], cuts[i + 1]);
    expect(s).toBeCloseTo(1, 14);
    // P(Z > 8) = erfc(8/√2)/2 = 6.220960574271784e-16
    expect(normalInterval(8, Infinity) / 6.220960574271784e-16).toBeCloseTo(1, 10);
  });
});
