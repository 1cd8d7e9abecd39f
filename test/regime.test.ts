/**
 * The integrability dichotomy (DESIGN.md §1, oracles.md §4): near a quadratic zero set of
 * codimension k, π = f^−α is integrable iff α < k/2, i.e. ησ > 4/(k − 2).
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { classifyRegime } from '../src/diagnostics/regime.js';
import { pointFn } from './helpers/problems.js';

const mult = (etaSigma: number, eps = 0) => ({ kind: 'multiplicative' as const, etaSigma, eps });

describe('classifyRegime', () => {
  it('1-D zero minimum: collapsing for every ησ (k = 1)', () => {
    const g = new Grid([[-2, 3]], [2000]);
    for (const es of [0.1, 1, 10, 100]) {
      const r = classifyRegime(g, pointFn((x) => 0.5 * (x - 0.3) ** 2), mult(es));
      expect(r.regime).toBe('collapsing');
      expect(r.codimension).toBeCloseTo(1, 1);
      expect(r.argminF[0]).toBeCloseTo(0.3, 8);
    }
  });

  it('2-D valley of minimizers (codimension 1) and 2-D point zero (k = 2): collapsing', () => {
    const g = new Grid([[-2, 2], [-2, 2]], [200, 200]);
    const valley = classifyRegime(g, pointFn((x, y) => Math.exp(x) * y * y / 2), mult(2));
    expect(valley.regime).toBe('collapsing');
    expect(valley.codimension).toBeCloseTo(1, 0);
    const point = classifyRegime(g, pointFn((x, y) => x * x + 2 * y * y), mult(50));
    expect(point.regime).toBe('collapsing');
    expect(point.codimension).toBeCloseTo(2, 0);
  });

  it('3-D isolated zero (k = 3): converging iff ησ > 4/(k − 2) = 4', () => {
    const g = new Grid([[-1, 1], [-1, 1], [-1, 1]], [60, 60, 60]);
    const f = pointFn((x, y, z) => x * x + y * y + z * z);
    const above = classifyRegime(g, f, mult(8)); // α = 1.25 < 1.5
    const below = classifyRegime(g, f, mult(2)); // α = 2 > 1.5
    expect(above.regime).toBe('converging');
    expect(below.regime).toBe('collapsing');
    expect(above.codimension).toBeCloseTo(3, 0);
  });

  it('positive floor, positive infimum or additive noise: converging', () => {
    const g = new Grid([[-2, 2]], [400]);
    expect(classifyRegime(g, pointFn((x) => x * x), mult(1, 1e-3)).regime).toBe('converging');
    expect(classifyRegime(g, pointFn((x) => 0.1 + x * x), mult(1)).regime).toBe('converging');
    expect(classifyRegime(g, pointFn((x) => x * x), { kind: 'additive', D: 0.1 }).regime).toBe('converging');
  });
});
