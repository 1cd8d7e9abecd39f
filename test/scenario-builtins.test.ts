import { describe, expect, it } from 'vitest';
import { getBuiltin, listBuiltins, resolveLandscape, tiltedWellMinimum } from '../src/landscape/builtins.js';
import { expectInputError, rng } from './scenario-helpers.js';

const evalAt = (builtin: string, dim: number, p: number[], params?: Record<string, number>): number =>
  resolveLandscape({ builtin, ...(params ? { params } : {}) }, dim).compiled.at(p);

describe('builtin landscapes', () => {
  it('lists the documented builtins with docs, dims and defaults', () => {
    const names = listBuiltins().map((b) => b.name);
    expect(names).toEqual(['pearson', 'quadratic', 'double-well', 'tilted-double-well', 'ou', 'feng-tu-valley', 'rosenbrock']);
    for (const b of listBuiltins()) {
      expect(b.doc.length).toBeGreaterThan(20);
      expect(b.doc).toContain('f =');
      expect(b.dims.length).toBeGreaterThan(0);
      for (const d of b.dims) resolveLandscape({ builtin: b.name }, d); // compiles with defaults in every dim
    }
    expect(getBuiltin('rosenbrock')?.dims).toEqual([2]);
    expect(getBuiltin('nope')).toBeUndefined();
  });

  it('evaluate to their documented formulas', () => {
    const r = rng(9);
    for (let t = 0; t < 20; t++) {
      const [x, y, z] = [r(-2, 2), r(-2, 2), r(-2, 2)];
      const close = (got: number, want: number): void => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(want)));
      close(evalAt('pearson', 1, [x]), 0.1 + 0.5 * x * x);
      close(evalAt('pearson', 3, [x, y, z], { c: 1, b: 2 }), 1 + 2 * (x * x + y * y + z * z));
      close(evalAt('quadratic', 2, [x, y]), 0.5 * (x * x + y * y));
      close(evalAt('double-well', 1, [x], { floor: 0.2 }), (x * x - 1) ** 2 / 4 + 0.2);
      close(evalAt('double-well', 3, [x, y, z], { k: 3 }), (x * x - 1) ** 2 / 4 + 1.5 * (y * y + z * z));
      close(evalAt('ou', 2, [x, y], { kappa: 4 }), 2 * (x * x + y * y));
      close(evalAt('feng-tu-valley', 2, [x, y], { l0: 2, g: 0.5, floor: 0.1 }), 2 * Math.exp(0.5 * x) * y * y / 2 + 0.1);
      close(evalAt('rosenbrock', 2, [x, y]), (1 - x) ** 2 + 100 * (y - x * x) ** 2);
    }
    expect(evalAt('rosenbrock', 2, [1, 1])).toBe(0);
    expect(evalAt('double-well', 2, [-1, 0])).toBe(0);
  });

  it('tilted-double-well: the global minimum is exactly floor, the other well higher', () => {
    for (const tilt of [0, 0.05, 0.1, 0.3, 1, -0.2]) {
      const res = resolveLandscape({ builtin: 'tilted-double-well', params: { tilt, floor: 0.01 } }, 1);
      expect(res.params['shift']).toBeCloseTo(-tiltedWellMinimum(tilt), 15);
      let min = Infinity;
      let argmin = 0;
      for (let i = 0; i <= 400000; i++) {
        const x = -3 + (6 * i) / 400000;
        const v = res.compiled.at([x]);
        if (v < min) { min = v; argmin = x; }
      }
      expect(min).toBeGreaterThanOrEqual(0.01 - 1e-14);
      expect(min).toBeLessThan(0.01 + 1e-9);
      if (tilt !== 0) expect(Math.sign(argmin)).toBe(-Math.sign(tilt));
    }
    // Metastable well about 2*tilt above the global one.
    const f = resolveLandscape({ builtin: 'tilted-double-well', params: { tilt: 0.05 } }, 1).compiled;
    expect(f.at([1]) - f.at([-1])).toBeCloseTo(0.1, 10);
  });

  it('merges user params over defaults and reports them', () => {
    const r = resolveLandscape({ builtin: 'pearson', params: { b: 2 } }, 2);
    expect(r.params).toEqual({ c: 0.1, b: 2 });
    expect(r.source).toBe('c + b*(x^2 + y^2)');
    expect(r.doc).toContain('Pearson');
    const e = resolveLandscape({ expr: 'a*x', params: { a: 3 } }, 1);
    expect(e.source).toBe('a*x');
    expect(e.compiled.at([2])).toBe(6);
  });

  it('rejects unknown builtins, unknown or computed params, and wrong dimensions', () => {
    expectInputError(() => resolveLandscape({ builtin: 'himmelblau' }, 2, 's.yaml'), { file: 's.yaml', field: 'landscape.builtin', includes: ['known: pearson'] });
    expectInputError(() => resolveLandscape({ builtin: 'pearson', params: { k: 1 } }, 1, 's.yaml'), { file: 's.yaml', field: 'landscape.params.k', includes: ['allowed: c, b'] });
    // k exists only in n-D for the double well.
    expectInputError(() => resolveLandscape({ builtin: 'double-well', params: { k: 1 } }, 1), { field: 'landscape.params.k', includes: ['1-D'] });
    expect(resolveLandscape({ builtin: 'double-well', params: { k: 2 } }, 2).params['k']).toBe(2);
    expectInputError(() => resolveLandscape({ builtin: 'tilted-double-well', params: { shift: 1 } }, 1), { field: 'landscape.params.shift', includes: ['computed'] });
    expectInputError(() => resolveLandscape({ builtin: 'feng-tu-valley' }, 3), { field: 'landscape.builtin', includes: ['2-D only'] });
    expectInputError(() => resolveLandscape({ builtin: 'pearson', params: { b: Number.POSITIVE_INFINITY } }, 1), { field: 'landscape.params.b', includes: ['finite'] });
  });

  it('builtin gradients work (compiled through the same path)', () => {
    const g = resolveLandscape({ builtin: 'rosenbrock' }, 2).compiled.gradient();
    expect(Math.abs(g[0]!.at([1, 1]))).toBe(0);
    expect(Math.abs(g[1]!.at([1, 1]))).toBe(0);
    expect(g[1]!.at([0, 1])).toBe(200);
  });
});
