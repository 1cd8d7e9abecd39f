/**
 * The engine of `fpsolve run` on diffusion-matrix noise: the noise models (src/noise/), the
 * monotone scheme (solvers/anisotropic/) and the non-symmetric solvers (solvers/nonsym/), behind
 * the interface the runner is written against (types.ts NonrevEngine).
 */
import { assembleGenerator } from '../../solvers/anisotropic/assemble.js';
import { steadyState } from '../../solvers/nonsym/steady.js';
import { CsrStepper } from '../../solvers/nonsym/stepper.js';
import { nonsymmetricGap } from '../../solvers/nonsym/gap.js';
import { eigenvector, hessenbergEigenvalues } from '../../solvers/nonsym/hessenberg.js';
import type { Csr } from '../../solvers/sparse/csr.js';
import type { Grid } from '../../solvers/grid.js';
import { SolverFailure } from '../../solvers/base/failures.js';
import { InputError, NumericalFault } from '../errors.js';
import { buildDiffusion } from '../noise/index.js';
import { bandedGap, bandedSteadyState, bandedStepper, bandwidth, BANDED_MAX_WORK } from './banded.js';
import type { NonrevEngine, StepperLike, SteadyStateLike } from './types.js';

/**
 * The Krylov stepper of solvers/nonsym/ behind StepperLike: adaptive TR-BDF2 (time.tolerance) or
 * backward Euler at time.dt (default reportEvery/10), its per-call counters summed over the run.
 */
function krylovStepper(a: Csr, grid: Grid, opts: { integrator: string; dt?: number; tolerance: number; reportEvery: number }, mg: { multigrid?: { coarseOperator: (g: Grid) => Csr } } = {}): StepperLike {
  if (!['auto', 'trbdf2', 'backward-euler'].includes(opts.integrator)) {
    throw new InputError(`time.integrator ${opts.integrator} is not available for diffusion-matrix noise (implicit steps only: auto, trbdf2, backward-euler)`, { field: 'time.integrator' });
  }
  const be = opts.integrator === 'backward-euler';
  const dt = be ? (opts.dt ?? opts.reportEvery / 10) : opts.dt;
  const st = new CsrStepper(a, grid, { method: be ? 'backward-euler' : 'trbdf2', ...(dt !== undefined ? { dt } : {}), ...(be ? {} : { tolerance: opts.tolerance }), ...mg });
  const stats = { steps: 0, rejected: 0, dtMin: Infinity, dtMax: 0 };
  const solver = { name: 'GMRES(30) + aggregation multigrid', solves: 0, iterations: 0 };
  let clipped = 0;
  return {
    name: be ? 'backward-euler' : 'trbdf2',
    stats,
    solver,
    describe: () => `${be ? `backward Euler, dt = ${dt}` : `TR-BDF2, adaptive (tolerance ${opts.tolerance})`}, each step's solves by GMRES + multigrid${clipped > 0 ? `; negatives of the inexact solves clipped, ${clipped.toExponential(2)} of the mass moved in all` : ''}`,
    async advance(rho, t0, t1) {
      const s = st.advance(rho, t0, t1);
      stats.steps += s.steps;
      stats.rejected += s.rejected;
      if (s.dtLast > 0) {
        stats.dtMin = Math.min(stats.dtMin, s.dtLast);
        stats.dtMax = Math.max(stats.dtMax, s.dtLast);
      }
      solver.solves += s.solves;
      solver.iterations += s.iterations;
      clipped += s.clipped;
      return t1;
    },
  };
}

/** n·w² below which the steady state is solved directly (about a second: 128² with the 3 axis-and-diagonal offsets, 64×128 with knight offsets). */
const DIRECT_WORK = 1e9;

export function defaultEngine(): NonrevEngine {
  // The same scheme on coarser grids, per assembled A: the multigrid's re-discretised coarse levels
  // (flat iteration counts on the real scheme, bench/results-steady.md). Keyed by the matrix so that
  // the NonrevEngine interface is unchanged.
  const coarse = new WeakMap<Csr, (g: Grid) => Csr>();
  const withCoarse = (a: Csr): { multigrid?: { coarseOperator: (g: Grid) => Csr } } => {
    const p = coarse.get(a);
    return p ? { multigrid: { coarseOperator: p } } : {};
  };
  return {
    buildDiffusion: (loaded, grid) => buildDiffusion(loaded, grid),
    assemble: (grid, field, gradF) => {
      const gen = assembleGenerator(grid, field, gradF);
      coarse.set(gen.forward, (g) => assembleGenerator(g, field, gradF).forward);
      return gen;
    },
    steadyState: (a, grid, opts): SteadyStateLike => {
      // Where the band is cheap the direct solve is exact and positive in every cell (the Krylov
      // solve leaves far-tail cells at round-off, clipped to 0, which the distances then cannot divide by).
      if (a.rows * bandwidth(a) ** 2 <= DIRECT_WORK) return bandedSteadyState(a, grid.cellVolume);
      let why: string;
      try {
        const s = steadyState(a, grid, { tol: opts.tolerance, ...withCoarse(a) });
        if (s.converged) return { rho: s.rho, residual: s.residual, iterations: s.iterations, method: s.method, ...(s.clipped > 0 ? { clipped: s.clipped } : {}) };
        why = `${s.method} stopped at residual ${s.residual.toExponential(2)} after ${s.iterations} iterations`;
      } catch (e) {
        if (!(e instanceof SolverFailure)) throw e;
        why = e.message;
      }
      // The direct solve needs no convergence: where the band is small enough it is the fallback.
      if (a.rows * bandwidth(a) ** 2 <= BANDED_MAX_WORK) {
        const b = bandedSteadyState(a, grid.cellVolume);
        return { ...b, method: `${b.method}; the Krylov solve did not converge (${why})` };
      }
      throw new NumericalFault(`steady state: not converged to ${opts.tolerance} (${why}), and the grid is too large for the direct solve`, 'iteration-limit');
    },
    // Where one factorization is cheap the direct banded steps are used (no iteration to fail); else GMRES + multigrid
    // (re-discretised levels: measured TR-BDF2 on anisotropic-ou at 192², t ∈ [0, 1], 6.9 s CPU against 11.5 s).
    stepper: (a, grid, opts) => (a.rows * bandwidth(a) ** 2 <= DIRECT_WORK ? bandedStepper(a, opts) : krylovStepper(a, grid, opts, withCoarse(a))),
    gap: (a, grid, steady, opts) => {
      let g: ReturnType<typeof nonsymmetricGap>;
      try {
        // σ = 0.01 > 0 (no generator eigenvalue there) keeps the re-discretised levels non-singular: measured on the
        // Hessian Feng–Tu generator at 64×128, σ = 0 stalled the inner solves at 5.6e-5 and σ = 0.01 converged.
        g = nonsymmetricGap(a, grid, steady, { tol: opts.tolerance, ...withCoarse(a), ...(coarse.has(a) ? { shift: 0.01 } : {}) });
      } catch (e) {
        // The iterative inner solves can stall on a strongly anisotropic generator; where the band is small a direct one cannot.
        if (!(e instanceof SolverFailure) || a.rows * bandwidth(a) ** 2 > DIRECT_WORK) throw e;
        const b = bandedGap(a, steady, { values: hessenbergEigenvalues, vector: eigenvector }, { tol: opts.tolerance });
        if (!(b.change <= opts.tolerance)) throw new NumericalFault(`shift-invert Arnoldi (direct inner solves) did not settle: μ₁ ≈ ${b.re.toPrecision(4)}, change ${b.change.toExponential(2)} at Krylov size ${b.krylov}; the iterative one failed first (${e.message})`, 'iteration-limit');
        return { re: b.re, im: b.im, residual: b.residual, estimate: b.change, ritz: b.ritz, method: `shift-invert Arnoldi with direct banded solves of A − 0.01·I (Krylov size ${b.krylov}); the GMRES inner solves had stalled (${e.message})` };
      }
      if (!g.converged) throw new NumericalFault(`shift-invert Arnoldi did not converge to ${opts.tolerance} (μ₁ ≈ ${g.re.toPrecision(4)}${g.im ? ` ± ${g.im.toPrecision(4)}i` : ''}, residual ${g.residual.toExponential(2)}, change ${g.change.toExponential(2)} at Krylov size ${g.krylov})`, 'iteration-limit');
      return { re: g.re, im: g.im, residual: g.residual, estimate: g.change, ritz: g.ritz.map((r) => ({ re: r.re, im: r.im })), method: `shift-invert Arnoldi (Krylov size ${g.krylov}, ${g.solves} solves, ${g.innerIterations} inner GMRES iterations): ${g.estimate}` };
    },
  };
}
