import { Grid } from '../../solvers/grid.js';
import { normalInterval } from '../../solvers/special.js';
import type { InitialSpec } from '../scenario/types.js';
import { InputError } from '../errors.js';
import { assertConfined } from '../io/confine.js';
import { npyByteBound, readNpy } from '../io/npy.js';
import { resolve } from 'node:path';
import ndarray from 'ndarray';
import ops from 'ndarray-ops';
import { fieldView } from '../field/field.js';
import { reuseKey, reuseLast } from '../resources/reuse.js';

/**
 * A sweep's points share their initial density (an ησ sweep changes π, not ρ₀): a Gaussian or
 * uniform start on the same grid is computed once per process (src/resources/reuse.ts). A start read
 * from a file is always read again (the file may change between runs).
 */
export function reuseInitialDensity(grid: Grid, spec: InitialSpec, compute: () => Float64Array): Float64Array {
  if (!('gaussian' in spec || 'uniform' in spec)) return compute();
  return reuseLast('initial-density', grid.size, reuseKey([spec, grid.lo, grid.hi, grid.n]), [], compute, (r) => r.slice());
}

/**
 * The initial density as exact cell averages, normalized to mass 1 on the grid. Gaussians are
 * integrated exactly per cell (products of normal-interval probabilities), so a narrow start is
 * not aliased by point sampling.
 */
export function initialDensity(grid: Grid, spec: InitialSpec, ctx: { file: string; baseDir: string }): Float64Array {
  const rho = new Float64Array(grid.size);
  if ('gaussian' in spec) {
    const { mean, std } = spec.gaussian;
    const perAxis = grid.n.map((n, k) => {
      const w = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const a = grid.lo[k] + i * grid.h[k];
        w[i] = normalInterval((a - mean[k]) / std[k], (a + grid.h[k] - mean[k]) / std[k]);
      }
      return w;
    });
    fillProduct(grid, perAxis, rho);
  } else if ('uniform' in spec) {
    const b = spec.uniform.bounds ?? grid.lo.map((lo, k) => [lo, grid.hi[k]] as [number, number]);
    const perAxis = grid.n.map((n, k) => {
      const w = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const a = grid.lo[k] + i * grid.h[k];
        w[i] = Math.max(0, Math.min(a + grid.h[k], b[k][1]) - Math.max(a, b[k][0]));
      }
      return w;
    });
    fillProduct(grid, perAxis, rho);
  } else {
    const path = resolve(ctx.baseDir, spec.file);
    assertConfined(path, { file: ctx.file, field: 'initial.file' });
    const arr = readNpy(path, { maxBytes: npyByteBound(grid.size) });
    const want = grid.n.join('×');
    if (arr.shape.length !== grid.dim || arr.shape.some((s, k) => s !== grid.n[k])) {
      throw new InputError(`initial density has shape ${arr.shape.join('×')}, the grid is ${want}`, { file: ctx.file, field: 'initial.file' });
    }
    for (let i = 0; i < rho.length; i++) {
      const v = arr.data[i];
      if (!Number.isFinite(v) || v < 0) {
        throw new InputError(`initial density must be finite and ≥ 0; cell ${i} holds ${v} (${path})`, { file: ctx.file, field: 'initial.file' });
      }
      rho[i] = v;
    }
  }
  const field = fieldView(grid, rho);
  // ops.sum adds in memory order, as a flat loop would: the mass (and so every cell) keeps its bits.
  const mass = ops.sum(field) * grid.cellVolume;
  if (!(mass >= 1e-290 && mass <= 1e290)) return normalizeScaled(rho, grid, ctx.file);
  ops.divseq(field, mass);
  return rho;
}

/**
 * Normalization when the plain sum overflows (a file of values near 1e308) or is so small that
 * dividing by it loses bits (subnormal values): a density's scale is arbitrary, so sum ρ/max ρ.
 */
function normalizeScaled(rho: Float64Array, grid: Grid, file: string): Float64Array {
  const field = fieldView(grid, rho);
  const max = ops.sup(field);
  if (!(max > 0)) {
    throw new InputError('initial density has no mass inside the domain (is it outside domain.bounds, or all zero?)', { file, field: 'initial' });
  }
  let mass = 0;
  for (let i = 0; i < rho.length; i++) mass += rho[i] / max;
  mass *= grid.cellVolume;
  // Still out of range only for absurd cell volumes (a box of 1e-300); say so rather than divide by 0 or ∞.
  if (!(mass > 0 && Number.isFinite(mass))) {
    throw new InputError(`the initial density's total mass (max ρ × Σρ/max ρ × cell volume ${grid.cellVolume}) is outside the float64 range`, { file, field: 'initial' });
  }
  ops.divseq(field, max);
  ops.divseq(field, mass);
  return rho;
}

/** out_i = Π_k perAxis[k][i_k], multiplied in axis order; one row of the innermost axis at a time. */
function fillProduct(grid: Grid, perAxis: Float64Array[], out: Float64Array): void {
  const last = ndarray(perAxis[grid.dim - 1]);
  const n = grid.n[grid.dim - 1];
  // The field as rows of the innermost axis; the row's multi-index gives the other axes' factors.
  const rows = ndarray(out, [grid.size / n, n]);
  for (let r = 0; r < rows.shape[0]; r++) {
    let v = 1;
    for (let k = 0; k < grid.dim - 1; k++) v *= perAxis[k][Math.floor((r * n) / grid.strides[k]) % grid.n[k]];
    ops.muls(rows.pick(r), last, v);
  }
}
