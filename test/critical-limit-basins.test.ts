/**
 * The critical limit's π mass per zero component and report.json `basins` are one partition
 * (src/diagnostics/basins.ts basinLabels seeded by the zero components), so they must report the
 * same numbers. On the bundled three-zero recipe (docs/oracles.md §7 "The critical-noise limit")
 * with unequal cell widths per axis: there the lowest-neighbour descent the critical limit used to
 * run and the steepest (per unit length) descent of basinLabels send some cells to different zeros.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { setUp } from '../src/run/setup.js';
import { criticalLimitOf } from '../src/estimators/critical-limit.js';
import { BasinMeter } from '../src/diagnostics/basins.js';

describe('critical limit π masses = report basins π masses', () => {
  it('three zeros in 3-D on an anisotropic 14×9×11 grid, ησ = 4.5', () => {
    const s = setUp(loadScenario('examples/critical-noise/three-zeros-3d.yaml', ['domain.cells=[14,9,11]', 'noise.sigma=9']));
    const c = criticalLimitOf(s)!;
    const pi = Float64Array.from(s.problem.logPi(), Math.exp);
    let total = 0;
    for (const v of pi) total += v * s.grid.cellVolume;
    const meter = new BasinMeter(s);
    const b = meter.report(pi, true, () => pi);
    expect(c.components.length).toBe(3);
    c.components.forEach((k, i) => {
      const basin = b.basins[i];
      expect(basin.component).toBe(k.component);
      expect(Math.abs(k.piMass / total - basin.piMass!)).toBeLessThan(1e-12);
      // The zero's own cell lies in its basin.
      const cell = k.location.reduce((a, x, ax) => a + Math.min(s.grid.n[ax] - 1, Math.floor((x - s.grid.lo[ax]) / s.grid.h[ax])) * s.grid.strides[ax], 0);
      expect(meter.labels.label[cell]).toBe(i);
    });
    // What no zero's basin holds (positive local minima) closes the balance with the total mass of π.
    const inZeros = c.components.reduce((t, k) => t + k.piMass, 0);
    expect(Math.abs(inZeros + c.otherMass - total)).toBeLessThan(1e-12 * total);
  });
});
