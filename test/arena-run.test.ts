/**
 * The arena belongs to a run (issue #21 item 3, solvers/exec/arena.ts): every grid-sized array a run
 * keeps — the problem's f, ψ and face D, the operator's coefficients, the multigrid levels, the
 * backend's fields — is held by an ArenaLease and goes back to the arena when its owner is disposed,
 * not when the garbage collector gets to it. Checked against the block count written out here from
 * the arrays' definitions, and by running the same run twice: the second reuses the first's memory
 * (the arena does not grow), ends where it started, and gives the same bits.
 */
import { describe, expect, it } from 'vitest';
import { arenaMemory, arenaStats, wasmKernelsEnabled } from '../solvers/exec/arena.js';
import { Grid } from '../solvers/grid.js';
import { Problem } from '../solvers/problem.js';
import { FvOperator } from '../solvers/operator.js';
import { MultigridPreconditioner } from '../solvers/multigrid.js';
import { cpuBackend, selectIntegrator } from '../solvers/backend/choose.js';
import { gaussianBump, mass, pointFn } from './helpers/problems.js';

const CELLS = [48, 40];
/** Bytes of one arena block of n float64s: blocks are 64-byte aligned. */
const block = (n: number): number => Math.ceil((8 * n) / 64) * 64;

function build(): { problem: Problem; op: FvOperator } {
  const grid = new Grid([[-2, 2], [-2, 2]], CELLS);
  const p = Problem.build(grid, pointFn((x, y) => 0.05 + (x * x - 1) ** 2 + y * y), { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
  if (!(p instanceof Problem)) throw new Error('landscape fault');
  return { problem: p, op: new FvOperator(p) };
}

/** One run: build, step backward Euler with multigrid-PCG, dispose; the arena's state along the way. */
async function oneRun(): Promise<{ rho: Float64Array; during: number; kept: number; released: number }> {
  const { problem, op } = build();
  const kept = problem.lease.bytes + op.lease.bytes;
  const backend = cpuBackend(op, 'multigrid');
  const integrator = selectIntegrator(op, { choice: 'backward-euler', dt: 0.05, tolerance: 1e-8, reportEvery: 0.05, end: 0.2 }, backend);
  const rho = gaussianBump(op.grid, [0.5, 0.3], 0.4);
  await integrator.advance(rho, 0, 0.2);
  const during = arenaStats()!.used;
  // No await from here to the end: no finalizer can run, so the difference is what dispose() returned.
  integrator.dispose();
  op.dispose();
  problem.dispose();
  return { rho, during, kept, released: during - arenaStats()!.used };
}

describe.skipIf(!wasmKernelsEnabled())('the arena belongs to a run', () => {
  it('holds the problem and operator arrays in their leases: 4 + 8 grid blocks in 2-D', () => {
    const { problem, op } = build();
    const size = op.grid.size;
    // f, ψ and one face D per axis; −A_ii, √π and fwd, bwd, sym per axis.
    expect(problem.lease.bytes).toBe((2 + 2) * block(size));
    expect(op.lease.bytes).toBe((2 + 3 * 2) * block(size));
    op.dispose();
    problem.dispose();
    expect(problem.lease.bytes + op.lease.bytes).toBe(0);
  });

  it('two runs one after the other: each returns everything it leased, and the second reuses the first one\'s memory', async () => {
    arenaMemory(); // the arena exists before the first snapshot
    const start = arenaStats()!;
    const first = await oneRun();
    const afterFirst = arenaStats()!;
    const second = await oneRun();
    const afterSecond = arenaStats()!;
    const size = CELLS[0] * CELLS[1];
    // Not vacuous: the run really held its grid arrays in the arena (12 from problem and operator,
    // more for the multigrid levels and the fields).
    expect(first.kept).toBe(12 * block(size));
    expect(first.during - start.used).toBeGreaterThan(first.kept + 2 * block(size));
    // Everything the run held went back: the arena is where it was before the run.
    expect(afterFirst.used).toBe(start.used);
    expect(afterFirst.blocks).toBe(start.blocks);
    expect(first.released).toBe(first.during - start.used);
    // The second run fits in the memory the first returned.
    expect(afterSecond.capacity).toBe(afterFirst.capacity);
    expect(afterSecond.used).toBe(start.used);
    expect(second.released).toBe(first.released);
    // Reused (dirty) memory changes nothing: a rerun is the same bits, and mass is conserved.
    expect(Array.from(second.rho)).toEqual(Array.from(first.rho));
    const grid = new Grid([[-2, 2], [-2, 2]], CELLS);
    expect(Math.abs(mass(grid, first.rho) - 1)).toBeLessThan(1e-10);
  });

  it('a disposed multigrid refuses to set up again (its levels may hold another run\'s arrays)', () => {
    const { problem, op } = build();
    const mg = new MultigridPreconditioner(op);
    mg.setup(0.1);
    const used = arenaStats()!.used;
    mg.dispose();
    expect(arenaStats()!.used).toBeLessThan(used);
    expect(() => mg.setup(0.2)).toThrow(/after dispose/);
    op.dispose();
    problem.dispose();
  });
});
