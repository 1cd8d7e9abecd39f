/**
 * Peak memory of a diffusion-matrix run, checked before the first grid array (the reversible
 * path's estimate, src/resources/memory.ts, counts another set of arrays and was not consulted
 * here: a huge grid ran into an allocation failure, and --max-memory was ignored).
 */
import { BASE_OVERHEAD_BYTES, formatBytes, type MemoryEstimate } from '../resources/memory.js';

/**
 * Offsets a generator typically carries: 1-D the axis; 2-D Selling's 3 per cell over a few
 * superbases plus the wall reflections (6 measured on the anisotropic OU and a rank-one D); 3-D 24.
 */
const OFFSETS = [0, 1, 6, 24];

/**
 * Float64-equivalent grid arrays: per offset up, down and the cell weights (3); the CSR of A (an
 * int32 column and a float64 value per entry, 1 + 2·offsets entries a row: 1.5 arrays each), held
 * twice (A and the stepper's or multigrid's matrix); GMRES(30) bases (31) where the band is too wide
 * for a direct solve; ρ, the last healthy ρ, ρ_ss, f, the distances' ln ρ_ss and the current (d).
 */
export function estimateMatrixRunMemory(cells: readonly number[], reports: number): MemoryEstimate {
  const d = cells.length;
  const n = cells.reduce((a, b) => a * b, 1);
  const k = OFFSETS[d] ?? OFFSETS[3]!;
  const csr = 2 * 1.5 * (1 + 2 * k);
  const arrays = Math.ceil(3 * k + csr + 31 + 6 + d);
  // The banded direct solves hold n·(2w + 1) values with n·w² ≤ 1e9 (src/nonrev/engine.ts): at most 2·√(1e9·n) + n.
  const banded = 2 * Math.sqrt(1e9 * n) + n;
  const bytes = BASE_OVERHEAD_BYTES + (arrays * n + banded) * 8 + reports * 1024;
  return {
    bytes,
    cells: n,
    arrays,
    breakdown: `${arrays} float64 arrays of ${n} cells (generator ${3 * k} by offset, its matrix ${csr}, GMRES 31, run ${6 + d}) + ${formatBytes(banded * 8)} for a banded factorization + ${formatBytes(BASE_OVERHEAD_BYTES)} for Node`,
  };
}
