/**
 * The bundled study examples/feng-tu-anisotropic/: its isotropic scenario must have the trace of the
 * Hessian-aligned one at every point (the closed form of λ₊ written in isotropic.yaml against the
 * eigen-decomposition src/noise/ does for H₊), else the comparison would mix anisotropy with noise power.
 */
import { describe, expect, it } from 'vitest';
import { Grid } from '../solvers/grid.js';
import { loadScenario } from '../src/scenario/load.js';
import { buildDiffusion } from '../src/noise/index.js';

describe('examples/feng-tu-anisotropic', () => {
  it('isotropic.yaml has D = (tr D_hessian / 2)·I everywhere, and D_hessian is singular off the valley floor', () => {
    const over = ['domain.cells=[16,32]'];
    const hess = loadScenario('examples/feng-tu-anisotropic/hessian.yaml', over);
    const iso = loadScenario('examples/feng-tu-anisotropic/isotropic.yaml', over);
    const grid = new Grid(hess.scenario.domain.bounds, hess.scenario.domain.cells);
    const dh = buildDiffusion(hess, grid);
    const di = buildDiffusion(iso, grid);
    const a = new Float64Array(4);
    const b = new Float64Array(4);
    let checked = 0;
    // Off the cell centres too: a point set the noise checks did not see.
    for (let k = 0; k < 200; k++) {
      const x = [-1 + 2 * ((k * 0.618034) % 1), -2 + 4 * ((k * 0.754877) % 1)];
      dh.field.evalD(x, a);
      di.field.evalD(x, b);
      const tr = a[0] + a[3];
      expect(Math.abs(b[0] - tr / 2)).toBeLessThan(1e-12 * tr);
      expect(b[1]).toBe(0);
      expect(Math.abs(dh.traceField(x) - tr)).toBeLessThan(1e-12 * tr);
      // det H < 0 off y = 0: H₊ has rank one there.
      if (Math.abs(x[1]) > 1e-3) expect(Math.abs(a[0] * a[3] - a[1] * a[2])).toBeLessThan(1e-10 * tr * tr);
      checked++;
    }
    expect(checked).toBe(200);
  });
});
