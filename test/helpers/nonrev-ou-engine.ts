/**
 * A small, independent engine for runMatrixScenario (src/nonrev/run.ts) in tests: the 2-D
 * Ornstein–Uhlenbeck process dθ = −Hθ dt + √(2D) dB with constant H and D (oracles.md §8), on a
 * grid, discretized along three offsets: D = Σ_e w_e v_e v_eᵀ with v_e = h⊙e, e ∈ {[1,0], [0,1],
 * [1,1]} (needs D₁₂ ≥ 0 and D diagonally dominant in grid units), the drift b = −Hθ split the same
 * way (z_e = v_e·D⁻¹b at the pair's midpoint) and fitted exponentially along each offset
 * (Scharfetter–Gummel: q⁺ = w B(−z), q⁻ = w B(z), B(z) = z/(eᶻ − 1)). With D = T·I and a quadratic
 * f, z = −(f_j − f_i)/T exactly, so the chain is in detailed balance with e^{−f/T}. Solves
 * are dense (LU with partial pivoting): only for grids of a few hundred cells. It shares no code
 * with the monotone scheme or the non-symmetric solvers, so a run through it checks the runner's
 * plumbing against oracles independent of them.
 */
import type { Grid } from '../../solvers/grid.js';
import type { OffsetRates } from '../../solvers/anisotropic/types.js';
import type { Csr } from '../../solvers/sparse/csr.js';
import { forEachPair, forwardMatrix } from '../../src/nonrev/generator.js';
import type { NonrevEngine, StepperLike, StepCheckpoint } from '../../src/nonrev/types.js';

export interface OuSpec {
  H: [[number, number], [number, number]];
  D: [[number, number], [number, number]];
}

function dense(a: Csr): Float64Array[] {
  const m = Array.from({ length: a.rows }, () => new Float64Array(a.cols));
  for (let i = 0; i < a.rows; i++) for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) m[i][a.col[k]] += a.val[k];
  return m;
}

/** In-place LU with partial pivoting; returns the solver of M x = b. */
function luSolver(m: Float64Array[]): (b: Float64Array) => Float64Array {
  const n = m.length;
  const piv = Int32Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i][k]) > Math.abs(m[p][k])) p = i;
    [m[k], m[p]] = [m[p], m[k]];
    [piv[k], piv[p]] = [piv[p], piv[k]];
    const rk = m[k];
    for (let i = k + 1; i < n; i++) {
      const ri = m[i];
      const l = (ri[k] /= rk[k]);
      if (l !== 0) for (let j = k + 1; j < n; j++) ri[j] -= l * rk[j];
    }
  }
  return (b) => {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = b[piv[i]];
      for (let j = 0; j < i; j++) s -= m[i][j] * x[j];
      x[i] = s;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i];
      for (let j = i + 1; j < n; j++) s -= m[i][j] * x[j];
      x[i] = s / m[i][i];
    }
    return x;
  };
}

export function ouEngine(spec: OuSpec, stepsPerReport = 20): NonrevEngine {
  const { H, D } = spec;
  return {
    buildDiffusion: () => ({
      field: {
        dim: 2,
        evalD: (_x, out) => {
          out[0] = D[0][0];
          out[1] = D[0][1];
          out[2] = D[1][0];
          out[3] = D[1][1];
        },
        evalDivD: (_x, out) => {
          out[0] = 0;
          out[1] = 0;
        },
      },
      gradF: (x, out) => {
        out[0] = H[0][0] * x[0] + H[0][1] * x[1];
        out[1] = H[1][0] * x[0] + H[1][1] * x[1];
      },
      description: `constant D = [[${D[0].join(', ')}], [${D[1].join(', ')}]] (test engine)`,
    }),
    assemble: (grid: Grid) => {
      const [h1, h2] = grid.h;
      const c = D[0][1];
      const w3 = c / (h1 * h2);
      const weights = [(D[0][0] - w3 * h1 * h1) / (h1 * h1), (D[1][1] - w3 * h2 * h2) / (h2 * h2), w3];
      if (weights.some((w) => w < 0)) throw new Error('test engine: D must have D12 ≥ 0 and be diagonally dominant in grid units');
      const det = D[0][0] * D[1][1] - D[0][1] * D[1][0];
      const Di = [
        [D[1][1] / det, -D[0][1] / det],
        [-D[1][0] / det, D[0][0] / det],
      ];
      const bern = (z: number): number => (Math.abs(z) < 1e-12 ? 1 - z / 2 : z / Math.expm1(z));
      const offsets = [
        [1, 0],
        [0, 1],
        [1, 1],
      ];
      const pairs: OffsetRates[] = offsets.map((offset, k) => {
        const up = new Float64Array(grid.size);
        const down = new Float64Array(grid.size);
        const v = [offset[0] * h1, offset[1] * h2];
        forEachPair(grid, offset, (i, j) => {
          const xi = grid.centre(i);
          const xj = grid.centre(j);
          const mid = [0.5 * (xi[0] + xj[0]), 0.5 * (xi[1] + xj[1])];
          const b = [-(H[0][0] * mid[0] + H[0][1] * mid[1]), -(H[1][0] * mid[0] + H[1][1] * mid[1])];
          // The drift split as D is (X = D⁻¹b along each offset), so Σ_e (q⁺ − q⁻) v_e = b and the pair forces are v_e·X.
          const z = v[0] * (Di[0][0] * b[0] + Di[0][1] * b[1]) + v[1] * (Di[1][0] * b[0] + Di[1][1] * b[1]);
          // Scharfetter–Gummel: q⁺ − q⁻ = w z, both positive for any z.
          up[i] = weights[k] * bern(-z);
          down[i] = weights[k] * bern(z);
        });
        return { offset, up, down };
      });
      const gen = { grid, pairs };
      return { ...gen, forward: forwardMatrix(gen), stats: { offsets } };
    },
    steadyState: (a, grid) => {
      const m = dense(a);
      // Replace the last balance equation by the normalization Σ ρ |K| = 1.
      m[a.rows - 1].fill(grid.cellVolume);
      const b = new Float64Array(a.rows);
      b[a.rows - 1] = 1;
      const rho = luSolver(m)(b);
      return { rho, residual: 0, iterations: 1, method: 'dense LU (test engine)' };
    },
    stepper: (a, _grid, opts) => {
      const dt = opts.reportEvery / stepsPerReport;
      const m = dense(a);
      for (let i = 0; i < m.length; i++) {
        for (let j = 0; j < m.length; j++) m[i][j] *= -dt;
        m[i][i] += 1;
      }
      const solve = luSolver(m);
      const stats = { steps: 0, rejected: 0, dtMin: dt, dtMax: dt };
      const stepper: StepperLike = {
        name: 'backward-euler',
        stats,
        describe: () => `backward Euler, dt = ${dt} (test engine)`,
        async advance(rho: Float64Array, t0: number, t1: number, checkpoint?: StepCheckpoint): Promise<number> {
          let t = t0;
          while (t < t1 * (1 - 1e-12)) {
            const step = Math.min(dt, t1 - t);
            if (Math.abs(step - dt) > 1e-12 * dt) throw new Error('test engine: report times must be multiples of dt');
            rho.set(solve(rho));
            t = t + step >= t1 * (1 - 1e-12) ? t1 : t + step;
            stats.steps++;
            if (t < t1 && checkpoint && (await checkpoint(t))) return t;
          }
          return t1;
        },
      };
      return stepper;
    },
    gap: () => {
      throw new Error('the test engine has no eigen-solver');
    },
  };
}
