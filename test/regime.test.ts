/**
 * The integrability dichotomy per component of the zero set (docs/design.md §1 and §4; docs/oracles.md
 * §4 Integrability): near a zero where vol{f < δ} ~ δ^e, π = f^−α is integrable iff α < e
 * (α = 1 + 2/(ησ); the boundary α = e is not). A quadratic zero of codimension k has e = k/2, so
 * it is integrable iff ησ > 4/(k − 2).
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { classifyRegime, type Regime } from '../src/diagnostics/regime.js';
import { compileExpr } from '../src/landscape/expr.js';
import { pointFn } from './helpers/problems.js';
import { SCENARIOS } from './helpers/run-inline.js';
import { join } from 'node:path';
import { parseBaselinesText } from '../src/check/load.js';
import { planUpdate } from '../src/check/update.js';
import type { CheckResult } from '../src/check/types.js';

const mult = (etaSigma: number, eps = 0) => ({ kind: 'multiplicative' as const, etaSigma, eps });

/** classifyRegime on an expression landscape, with its symbolic derivatives (as `fpsolve run` does). */
function classify(src: string, bounds: [number, number][], cells: number[], etaSigma: number): Regime {
  const c = compileExpr(src, {}, bounds.length);
  return classifyRegime(new Grid(bounds, cells), (co, out) => c.evalPoints(co, out), mult(etaSigma), c);
}

/** docs/oracles.md §4: a quadratic zero of codimension k is integrable iff ησ(k − 2) > 4 (strictly). */
const exactQuadratic = (k: number, etaSigma: number): 'converging' | 'collapsing' => (etaSigma * (k - 2) > 4 ? 'converging' : 'collapsing');

const B3: [number, number][] = [
  [-1, 1],
  [-1, 1],
  [-1, 1],
];
// Two isolated quadratic zeros with different Hessians: at (0.5, 0, 0) ∇²f = 2·I·B = diag(2, 2, 2)
// (B = 1 there), at (−0.5, 0, 0) ∇²f = A·diag(2, 4, 2) = diag(2, 4, 2) (A = 1 there).
const TWO_ZEROS = '((x-0.5)^2+y^2+z^2)*((x+0.5)^2+2*y^2+z^2)';

describe('classifyRegime: isolated quadratic zeros, decided exactly by the Hessian rank', () => {
  it('1-D zero minimum: collapsing for every ησ (k = 1), finite-difference Hessian', () => {
    const g = new Grid([[-2, 3]], [2000]);
    for (const es of [0.1, 1, 10, 100]) {
      const r = classifyRegime(g, pointFn((x) => 0.5 * (x - 0.3) ** 2), mult(es));
      expect(r.regime).toBe('collapsing');
      expect(r.codimension).toBe(1);
      expect(r.argminF[0]).toBeCloseTo(0.3, 8);
      expect(r.components).toHaveLength(1);
      expect(r.components![0].hessianSource).toBe('finite differences');
      expect(r.components![0].hessianEigenvalues[0]).toBeCloseTo(1, 4); // f'' = 1
    }
  });

  it('3-D, two zeros (the issue: ησ = 3.5 and 4 were called converging): both named, e = 3/2 each, on 8³ and 12³', () => {
    for (const n of [8, 12]) {
      for (const es of [3.5, 4, 4.5, 6]) {
        const r = classify(TWO_ZEROS, B3, [n, n, n], es);
        expect(r.regime, `${n}³, ησ = ${es}`).toBe(exactQuadratic(3, es));
        expect(r.components).toHaveLength(2);
        const byX = [...r.components!].sort((a, b) => a.location[0] - b.location[0]);
        expect(byX[0].location[0]).toBeCloseTo(-0.5, 10);
        expect(byX[1].location[0]).toBeCloseTo(0.5, 10);
        for (const c of byX) {
          expect(c.type).toBe('isolated quadratic');
          expect(c.codimension).toBe(3);
          expect(c.exponentExact).toBe('3/2');
          expect(c.verdict).toBe(es > 4 ? 'integrable' : 'not integrable');
          // The sub-grid ray measurement agrees with the exact exponent.
          expect(Math.abs(c.exponentMeasured!.value - 1.5)).toBeLessThanOrEqual(c.exponentMeasured!.uncertainty);
        }
        // Hessians from the product rule (see TWO_ZEROS).
        expect(byX[0].hessianEigenvalues.map((v) => +v.toFixed(9))).toEqual([2, 2, 4]);
        expect(byX[1].hessianEigenvalues.map((v) => +v.toFixed(9))).toEqual([2, 2, 2]);
      }
    }
  });

  it('the same from point values only (finite-difference Hessians)', () => {
    const f = (x: number, y: number, z: number): number => ((x - 0.5) ** 2 + y * y + z * z) * ((x + 0.5) ** 2 + 2 * y * y + z * z);
    for (const es of [3.5, 6]) {
      const r = classifyRegime(new Grid(B3, [12, 12, 12]), pointFn(f), mult(es));
      expect(r.regime).toBe(exactQuadratic(3, es));
      expect(r.components!.map((c) => c.codimension)).toEqual([3, 3]);
    }
  });

  it('ησ exactly at the threshold 4/(k − 2) = 4: α = 3/2 = e is NOT integrable; just above it is', () => {
    const at = classify('x^2+y^2+z^2', B3, [10, 10, 10], 0.4 * 10); // eta·sigma as the scenario multiplies it
    expect(at.regime).toBe('collapsing');
    expect(at.components![0].reason).toMatch(/exactly: not integrable/);
    expect(classify('x^2+y^2+z^2', B3, [10, 10, 10], 4 * (1 + 1e-9)).regime).toBe('converging');
    expect(classify('x^2+y^2+z^2', B3, [10, 10, 10], 4 * (1 - 1e-9)).regime).toBe('collapsing');
  });

  it('a zero half a unit from a wall (the issue: called collapsing at ησ = 4.5 and 6): converging, on 8³ and 12³', () => {
    const bounds: [number, number][] = [
      [0, 2],
      [-1, 1],
      [-1, 1],
    ];
    for (const n of [8, 12]) {
      for (const es of [4.5, 6]) {
        const r = classify('(x-0.5)^2+y^2+z^2', bounds, [n, n, n], es);
        expect(r.regime, `${n}³, ησ = ${es}`).toBe('converging');
        expect(r.components![0].walls).toEqual([]);
      }
    }
  });

  it('a zero on a wall sees a half-neighbourhood: the exponent is the same (measured along rays into the box)', () => {
    const r = classify('x^2+y^2+z^2', [[0, 1], [-1, 1], [-1, 1]], [8, 8, 8], 6);
    expect(r.regime).toBe('converging');
    const c = r.components![0];
    expect(c.walls).toEqual(['x=0']);
    expect(c.exponentExact).toBe('3/2');
    expect(Math.abs(c.exponentMeasured!.value - 1.5)).toBeLessThanOrEqual(c.exponentMeasured!.uncertainty);
    // gbm-collapse-1d: f = x²/2 on [0, 16], zero on the wall: e = 1/2.
    const g = classify('x^2/2', [[0, 16]], [1600], 1);
    expect(g.regime).toBe('collapsing');
    expect(g.components![0].walls).toEqual(['x=0']);
    expect(g.components![0].exponentMeasured!.value).toBeCloseTo(0.5, 6);
  });

  it('f vanishing linearly at a wall: e = 1 per linear axis + k/2 (∫∫∫ (x + y² + z²)^−α converges iff α < 2)', () => {
    const bounds: [number, number][] = [
      [0, 1],
      [-1, 1],
      [-1, 1],
    ];
    // ∫₀ dx ∫ d²w (x + |w|²)^−α = π ∫₀ x^(1−α) dx/(α − 1): finite iff α < 2, i.e. ησ > 2.
    expect(classify('x+y^2+z^2', bounds, [8, 8, 8], 2.5).regime).toBe('converging');
    expect(classify('x+y^2+z^2', bounds, [8, 8, 8], 2).regime).toBe('collapsing'); // α = 2 = e
    const c = classify('x+y^2+z^2', bounds, [8, 8, 8], 3).components![0];
    expect(c.type).toBe('linear at wall');
    expect(c.exponentExact).toBe('2');
  });
});

describe('classifyRegime: degenerate zeros and valleys', () => {
  it('1-D quartic zeros (the issue: "codimension 0.53", one zero named): both named, e = 1/4 each', () => {
    // (x² − 1)⁴ ≈ 16 s⁴ at x = ±1 + s: vol{f < δ} = 2(δ/16)^(1/4) near each, e = 1/4 < 1 < α.
    const r = classify('(x^2-1)^4', [[-2, 2]], [400], 6);
    expect(r.regime).toBe('collapsing');
    expect(r.components!.map((c) => Math.round(c.location[0] * 1e6) / 1e6).sort()).toEqual([-1, 1]);
    for (const c of r.components!) {
      expect(c.type).toBe('degenerate');
      expect(c.codimension).toBeNull();
      expect(Math.abs(c.exponent! - 0.25)).toBeLessThan(1e-3);
      expect(c.verdict).toBe('not integrable');
    }
  });

  it('3-D degenerate zero x² + y² + z⁴: e = 1 + 1/4 (splitting: vol = ∫ π(δ − z⁴) dz ~ δ^(5/4)); α = e is undecided, never wrong', () => {
    const r20 = classify('x^2+y^2+z^4', B3, [16, 16, 16], 20); // α = 1.1 < 1.25
    const c = r20.components![0];
    expect(c.type).toBe('degenerate');
    expect(Math.abs(c.exponent! - 1.25)).toBeLessThan(0.01);
    expect(r20.regime).toBe('converging');
    expect(classify('x^2+y^2+z^4', B3, [16, 16, 16], 6).regime).toBe('collapsing'); // α = 4/3 > 5/4
    const at = classify('x^2+y^2+z^4', B3, [16, 16, 16], 8); // α = 5/4 = e: within the measurement's uncertainty
    expect(at.regime).toBe('undecided');
    expect(at.components![0].refinement).toMatch(/cells ×4/);
  });

  it('2-D circle valley (x² + y² − 1)²: one component, a curve of codimension 1, e = 1/2', () => {
    const r = classify('(x^2+y^2-1)^2', [[-2, 2], [-2, 2]], [64, 64], 50);
    expect(r.regime).toBe('collapsing');
    expect(r.components).toHaveLength(1);
    const c = r.components![0];
    expect(c.type).toBe('valley');
    expect(c.zeroSetDimension).toBe(1);
    expect(c.codimension).toBe(1);
    expect(c.exponentExact).toBe('1/2');
    expect(Math.hypot(c.location[0], c.location[1])).toBeCloseTo(1, 10);
    // Its cells ring the circle: about 2π/h cells per row of the ring.
    expect(c.cells).toBeGreaterThan((2 * Math.PI) / (4 / 64));
  });

  it('3-D line valley x² + y²: a curve of codimension 2, e = 1, collapsing even at ησ = 100', () => {
    const r = classify('x^2+y^2', B3, [12, 12, 12], 100);
    expect(r.regime).toBe('collapsing');
    expect(r.components).toHaveLength(1);
    expect(r.components![0]).toMatchObject({ type: 'valley', zeroSetDimension: 1, codimension: 2, exponentExact: '1' });
  });

  it('2-D valley with varying curvature e^x y²/2 and a 2-D point zero: collapsing', () => {
    const g = new Grid([[-2, 2], [-2, 2]], [200, 200]);
    const valley = classifyRegime(g, pointFn((x, y) => (Math.exp(x) * y * y) / 2), mult(2));
    expect(valley.regime).toBe('collapsing');
    expect(valley.codimension).toBe(1);
    const pt = classifyRegime(g, pointFn((x, y) => x * x + 2 * y * y), mult(50));
    expect(pt.regime).toBe('collapsing');
    expect(pt.codimension).toBe(2);
  });
});

describe('classifyRegime: coarse grids give the exact answer or "undecided", never the wrong one', () => {
  const cases: { src: string; bounds: [number, number][]; exact: (es: number) => 'converging' | 'collapsing' }[] = [
    { src: TWO_ZEROS, bounds: B3, exact: (es) => exactQuadratic(3, es) },
    { src: '(x-0.5)^2+y^2+z^2', bounds: [[0, 2], [-1, 1], [-1, 1]], exact: (es) => exactQuadratic(3, es) },
    { src: 'x^2+y^2+z^2', bounds: [[0, 1], [-1, 1], [-1, 1]], exact: (es) => exactQuadratic(3, es) },
    { src: '(x^2+y^2+z^2-0.25)^2', bounds: B3, exact: () => 'collapsing' }, // sphere valley, codimension 1
    { src: 'x^2+y^2', bounds: B3, exact: () => 'collapsing' },
    { src: 'x^2+y^2+z^4', bounds: B3, exact: (es) => (1 + 2 / es < 1.25 ? 'converging' : 'collapsing') },
  ];
  for (const c of cases) {
    it(`8³: ${c.src}`, () => {
      for (const es of [2, 3.5, 4, 4.5, 6, 12]) {
        const got = classify(c.src, c.bounds, [8, 8, 8], es).regime;
        if (got !== 'undecided') expect(got, `ησ = ${es}`).toBe(c.exact(es));
      }
    });
  }
});

describe('classifyRegime: what the local search cannot settle is undecided, not guessed', () => {
  it('a curved valley of order 12, x² + (y − z²)² + z¹²: e = 1/2 + 1/2 + 1/12 (splitting), the search stops on the valley', () => {
    // The zero at 0 is reached only along y = z², where f = z¹² is ~1e-13 a tenth of the way in; the
    // point found there has a Hessian eigenvalue ~1e-8 of the largest: e ∈ (1, 3/2], α inside.
    const exact = (es: number): string => (1 + 2 / es < 1 + 1 / 12 ? 'converging' : 'collapsing');
    for (const es of [6, 30]) {
      const got = classify('x^2+(y-z^2)^2+z^12', B3, [8, 8, 8], es).regime;
      if (got !== 'undecided') expect(got).toBe(exact(es));
    }
    // In 2-D every zero collapses (e ≤ 1 < α), whatever the search found.
    expect(classify('(x-y^2)^2+y^12', [[-1, 1], [-1, 1]], [32, 32], 20).regime).toBe('collapsing');
  });

  it('a minimum of 1e-12 along a flat direction: undecided (zero or positive minimum), with the refinement that would tell', () => {
    const r = classify('x^2 + 1e-12 + y^6', [[-1, 1], [-1, 1]], [32, 32], 4);
    expect(r.regime).toBe('undecided');
    expect(r.components![0].refinement).toMatch(/cells ×4 per axis: \[128, 128\]/);
    // A positive minimum with a non-degenerate Hessian is decided: f ≥ 1e-9 > 0, π bounded.
    expect(classify('x^2+y^2+z^2 + 1e-9', B3, [8, 8, 8], 4).regime).toBe('converging');
  });
});

describe('classifyRegime: bounded π', () => {
  it('positive floor, positive infimum or additive noise: converging, no components', () => {
    const g = new Grid([[-2, 2]], [400]);
    expect(classifyRegime(g, pointFn((x) => x * x), mult(1, 1e-3)).regime).toBe('converging');
    const pos = classifyRegime(g, pointFn((x) => 0.1 + x * x), mult(1));
    expect(pos.regime).toBe('converging');
    expect(pos.components).toEqual([]);
    expect(classifyRegime(g, pointFn((x) => x * x), { kind: 'additive', D: 0.1 }).regime).toBe('converging');
  });
});

describe('check --update never rewrites a written regime', () => {
  const text = [
    'tolerance: { rel: 1.0e-3 }',
    'cases:',
    '  - name: hand',
    `    scenario: ${JSON.stringify(join(SCENARIOS, 'pearson-1d.yaml'))}`,
    '    expect:',
    '      regime: converging   # written by hand',
    '  - name: fresh',
    `    scenario: ${JSON.stringify(join(SCENARIOS, 'pearson-1d.yaml'))}`,
    '    expect:',
    '      regime: null',
    '',
  ].join('\n');

  it('a 12³ flip to collapsing leaves `regime: converging` alone and reports it; a null regime is filled in', () => {
    const { baselines, doc } = parseBaselinesText(text, 'b.yaml');
    const results: CheckResult[] = baselines.cases.map((c) => ({
      caseName: c.name,
      caseIndex: c.index,
      check: c.checks[0]!,
      got: 'collapsing',
      verdict: 'fail',
      deviation: null,
      allowed: null,
      message: '',
      seconds: 0,
    }));
    const plan = planUpdate(text, doc, results);
    expect(plan.changes.map((c) => [c.caseName, c.from, c.to])).toEqual([['fresh', null, 'collapsing']]);
    expect(plan.skipped.map((s) => s.caseName)).toEqual(['hand']);
    expect(plan.skipped[0]!.message).toMatch(/never rewrites a written regime/);
    expect(plan.text).toContain('regime: converging   # written by hand');
    expect(plan.text).toContain('regime: collapsing');
    // 'undecided' is a regime name a baseline may hold.
    expect(parseBaselinesText(text.replace('regime: null', 'regime: undecided'), 'b.yaml').baselines.cases[1]!.checks[0]!.expected).toBe('undecided');
  });
});
