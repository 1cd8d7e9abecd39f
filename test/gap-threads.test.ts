/**
 * The eigen-solve's speed work (issue #19 item 3) must not move λ₁: the kernel-thread apply has
 * DirichletForm.apply's bits for any split, the fused forms and the zero-start solve are the same
 * arithmetic, a team of 1 and of 2 threads give the same bits (block-hybrid smoothing in fixed
 * blocks), and a hierarchy handed over by the time steps gives the bits of a fresh one.
 * Counts and bits only, never timing. The worker script is the compiled one (dist/).
 */
import { describe, expect, it, vi } from 'vitest';
import { buildOperator } from './helpers/problems.js';
import { denseNegS } from './gap-helpers.js';
import { DirichletForm } from '../solvers/dirichlet-form.js';
import { dirichletApply } from '../solvers/dirichlet-kernels.js';
import { formsAgainst, shiftInvertModes, type SubspaceResult } from '../solvers/eigen/shift-invert.js';
import { SingularPcg } from '../solvers/eigen/pcg.js';
import { MultigridPreconditioner } from '../solvers/multigrid.js';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { takeGapReuse } from '../src/estimators/gap-reuse.js';
import { basinStartVectors } from '../src/estimators/gap-start.js';
import type { FvOperator } from '../solvers/operator.js';
import { runScenario } from '../src/run/run.js';
import { computeGap } from '../src/estimators/gap.js';
import { loadBundled } from './helpers/run-inline.js';

const mult = (etaSigma: number) => ({ kind: 'multiplicative' as const, etaSigma, eps: 0 });
/** The 2-D reference double well (scenarios/double-well-2d.yaml). */
const doubleWell = (x: number, y: number): number => 0.05 + (x * x - 1) ** 2 + y * y;
const wells = (cells: number): FvOperator => buildOperator([[-2, 2], [-2, 2]], [cells, cells], doubleWell, mult(0.5));

function seeded(n: number, seed: number): Float64Array {
  const v = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 32 - 0.5;
  }
  return v;
}

/** Bitwise equality (toEqual would let −0 match 0). */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function kernelArgs(op: FvOperator, v: Float64Array, out: Float64Array): { arrays: Float64Array[]; params: number[] } {
  const faces: Float64Array[] = [];
  for (let k = 0; k < op.grid.dim; k++) faces.push(op.fwd[k].map(Math.sqrt), op.bwd[k].map(Math.sqrt));
  return { arrays: [v, out, ...faces], params: [op.grid.size, op.grid.dim, ...op.grid.strides] };
}

describe('dirichletApply (the threads\' −S v)', () => {
  it('has the bits of DirichletForm.apply for any split into ranges, 2-D and 3-D, and equals the dense −S to round-off', () => {
    const cases: [FvOperator, string][] = [
      [buildOperator([[-2, 2], [-1.5, 1.5]], [13, 11], doubleWell, mult(0.5)), '2-D'],
      [buildOperator([[-2, 2], [-2, 2], [-2, 2]], [7, 6, 5], (x, y, z) => 0.1 + (x * x - 1) ** 2 + y * y + 0.5 * z * z, mult(0.7)), '3-D'],
    ];
    for (const [op, what] of cases) {
      const n = op.grid.size;
      const v = seeded(n, 7);
      const ref = new Float64Array(n);
      new DirichletForm(op).apply(v, ref);
      for (const cuts of [[0, n], [0, 1, n], [0, 37, 38, 90, n], [0, n - 1, n]]) {
        const out = new Float64Array(n).fill(NaN);
        const { arrays, params } = kernelArgs(op, v, out);
        for (let c = 0; c + 1 < cuts.length; c++) dirichletApply(arrays, [], params, cuts[c], cuts[c + 1]);
        expect(sameBits(out, ref), `${what}, cuts ${cuts.join(',')}`).toBe(true);
      }
      // Independent: the dense −S of the generator (test/gap-helpers.ts) times v.
      const S = denseNegS(op);
      let scale = 0;
      for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(S[i][i]));
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += S[i][j] * v[j];
        expect(Math.abs(ref[i] - s)).toBeLessThan(1e-12 * scale);
      }
    }
  });
});

describe('the eigen-solve\'s fused passes', () => {
  it('formsAgainst gives DirichletForm.form\'s bits for every basis size (four per sweep, and the rest)', () => {
    const op = wells(16);
    const A = new DirichletForm(op);
    const G = Array.from({ length: 7 }, (_, l) => seeded(A.faceCount, 11 + l));
    const gx = seeded(A.faceCount, 3);
    for (let m = 0; m <= 7; m++) {
      const row = formsAgainst(G.slice(0, m), gx);
      expect(row).toHaveLength(m);
      row.forEach((r, l) => expect(Object.is(r, A.form(G[l], gx))).toBe(true));
    }
  });

  it('a zero-start singular solve has the bits and iteration count of the cold start from x = 0', () => {
    const op = wells(32);
    const A = new DirichletForm(op);
    const s = Float64Array.from(op.sqrtPi);
    let sn = 0;
    for (const v of s) sn += v * v;
    for (let i = 0; i < s.length; i++) s[i] /= Math.sqrt(sn);
    const b = seeded(op.grid.size, 5);
    let c = 0;
    for (let i = 0; i < b.length; i++) c += b[i] * s[i];
    for (let i = 0; i < b.length; i++) b[i] -= c * s[i];
    const runs = [false, true].map((zero) => {
      const pcg = new SingularPcg(A, s, new MultigridPreconditioner(op, { cycle: 'V' }), 1e-8 * A.normBound);
      const x = new Float64Array(op.grid.size);
      const r = pcg.solve(b, x, 1e-8, 0, 500, zero);
      return { x, r, it: pcg.iterations };
    });
    expect(runs[1].it).toBe(runs[0].it);
    expect(runs[0].it).toBeGreaterThan(3);
    expect(Object.is(runs[1].r, runs[0].r)).toBe(true);
    expect(sameBits(runs[1].x, runs[0].x)).toBe(true);
  });
});

describe('eigen-solve on the kernel threads', () => {
  it('gives the same bits with 1 and 2 threads; λ₁ agrees with the unthreaded solve within the printed bounds (256² double well)', () => {
    // 256²: the smallest square grid whose finest level the multigrid smooths in the team's blocks
    // (THREADED_LEVEL_CELLS = 65536); the default team starts at 512².
    const op = wells(256);
    const starts = basinStartVectors(op, null);
    const run = (threads: number): SubspaceResult => shiftInvertModes(op, { modes: 1, startVectors: starts, threads });
    const [plain, one, two] = [run(0), run(1), run(2)];
    expect([plain.threads, one.threads, two.threads]).toEqual([0, 1, 2]);
    expect(two.innerIterations).toBe(one.innerIterations);
    expect(two.values.map((v) => Object.is(v, one.values[0]))).toEqual([true]);
    expect(Object.is(two.residuals[0], one.residuals[0])).toBe(true);
    expect(sameBits(two.vectors[0], one.vectors[0])).toBe(true);
    expect(one.converged && plain.converged).toBe(true);
    // The block-hybrid smoother is other arithmetic than the sequential sweep: an independent solve.
    expect(Math.abs(one.values[0] - plain.values[0])).toBeLessThanOrEqual(one.errorBounds[0] + plain.errorBounds[0]);
    expect(Math.abs(one.innerIterations - plain.innerIterations)).toBeLessThanOrEqual(0.2 * plain.innerIterations);
  });
});

describe('a run\'s multigrid hierarchy for its gap', () => {
  it('a hierarchy built for W-cycles (as the time steps build it) gives the bits of the solve\'s own V-cycle hierarchy, and is disposed at the end', () => {
    const op = wells(64);
    const starts = basinStartVectors(op, null);
    const own = shiftInvertModes(op, { modes: 2, startVectors: starts });
    const mg = new MultigridPreconditioner(op);
    expect(mg.name).toContain('W below the finest level(1,1)');
    const given = shiftInvertModes(op, { modes: 2, startVectors: starts, multigrid: mg });
    expect(given.preconditioner).toBe(own.preconditioner);
    expect(given.innerIterations).toBe(own.innerIterations);
    given.values.forEach((v, j) => expect(Object.is(v, own.values[j])).toBe(true));
    given.vectors.forEach((v, j) => expect(sameBits(v, own.vectors[j])).toBe(true));
    expect(() => mg.setup(1)).toThrow(/used after dispose/);
    // A hierarchy of another operator is not used (and is freed).
    const other = new MultigridPreconditioner(wells(32));
    const ignored = shiftInvertModes(op, { modes: 2, startVectors: starts, multigrid: other });
    expect(ignored.innerIterations).toBe(own.innerIterations);
    expect(() => other.setup(1)).toThrow(/used after dispose/);
  });

  it('the CPU backend hands over the hierarchy its implicit solves built; it survives the backend\'s dispose', async () => {
    const op = wells(64);
    const backend = new CpuBackend(op);
    const r = backend.field();
    const z = backend.field();
    await backend.upload(r, seeded(op.grid.size, 9));
    // θ·max(−S_ii) far above the switch: the conditioned preconditioner builds its multigrid.
    await backend.precondition(1e6, r, z);
    const labels = { label: new Int32Array(op.grid.size), basins: [{}] };
    const reuse = takeGapReuse(backend, labels as never, true);
    expect(reuse.labels).toBe(labels);
    const mg = reuse.multigrid as MultigridPreconditioner;
    expect(mg).toBeInstanceOf(MultigridPreconditioner);
    expect(mg.levels[0].d).toBe(op.outflow);
    backend.dispose();
    mg.setup(2);
    const out = new Float64Array(op.grid.size);
    mg.apply(seeded(op.grid.size, 4), out);
    expect(out.every(Number.isFinite)).toBe(true);
    reuse.dispose();
    expect(() => mg.setup(3)).toThrow(/used after dispose/);
    // Without a gap nothing is taken.
    const b2 = new CpuBackend(op);
    expect(takeGapReuse(b2, labels as never, false).multigrid).toBeUndefined();
    b2.dispose();
  });

  it('fpsolve run: the gap runs V-cycles on the hierarchy the TR-BDF2 steps built, and λ₁ agrees with `fpsolve gap`\'s within the bounds (double-well-2d, 64²)', async () => {
    const released = vi.spyOn(CpuBackend.prototype, 'releaseMultigrid');
    const cycled = vi.spyOn(MultigridPreconditioner.prototype, 'useCycle');
    try {
      const loaded = loadBundled('double-well-2d', ['domain.cells=[64,64]', 'time.end=0.2', 'time.reportEvery=0.1', 'time.integrator=trbdf2', 'time.tolerance=1e-3']);
      const r = await runScenario(loaded, {});
      expect(released).toHaveBeenCalledTimes(1);
      const mg = released.mock.results[0].value as MultigridPreconditioner | null;
      expect(mg).toBeInstanceOf(MultigridPreconditioner);
      expect(cycled.mock.calls).toEqual([['V']]);
      expect(mg?.levels[0].d).toBe(r.setup.op.outflow);
      // Taken over and freed: the eigen-solve disposed it.
      expect(() => mg?.setup(1)).toThrow(/used after dispose/);
      const gap = r.report.gap;
      expect(gap?.converged).toBe(true);
      // Independent: the gap command's own solve (its own hierarchy and coarse basin labels).
      const own = computeGap({ op: r.setup.op, regime: r.setup.regime, landscape: r.setup.landscape.evalPoints }).report;
      expect(Math.abs((gap?.value ?? NaN) - own.value)).toBeLessThanOrEqual((gap?.errorBounds?.[0] ?? NaN) + (own.errorBounds?.[0] ?? NaN));
    } finally {
      released.mockRestore();
      cycled.mockRestore();
    }
  });
});

