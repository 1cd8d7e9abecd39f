/**
 * The WebAssembly kernels against their JavaScript twins, on arrays in the arena: every
 * description's two generated forms (solvers/kernels/emit-wasm.ts, emit-js.ts), and the set-up
 * loops of solvers/kernels/wasm-module.ts against operator.ts, multigrid.ts and quadrature.ts.
 * The same expressions in the same order of evaluation must give the same bits (a promise: runs
 * do not depend on whether WebAssembly is available). Then whole solves with the kernels on and
 * off, and the arena's allocation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RANGE_KERNELS, type RangeKernelName } from '../solvers/range-kernels.js';
import { gaussSeidel, restrictResidual, type LevelStencil } from '../solvers/multigrid-kernels.js';
import { arenaStats, inArena, setWasmKernels, wasmFor, wasmKernelsEnabled } from '../solvers/exec/arena.js';
import { sharedFloat64, sharedInt32 } from '../solvers/shared-memory.js';
import { descriptions, kernel } from '../solvers/kernels/registry.js';
import { DeviceExponential, exponentialCgSettings } from '../solvers/backend/exponential.js';
import { DeviceTrBdf2 } from '../solvers/backend/implicit.js';
import { cgSettings, cpuBackend } from '../solvers/backend/choose.js';
import { setupOf } from './gpu-helpers.js';
import { MultigridPreconditioner } from '../solvers/multigrid.js';
import type { FvOperator } from '../solvers/operator.js';
import { ROOT } from './helpers/cli.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

afterEach(() => setWasmKernels(true));

/** An arena array with deterministic, sign-changing values. */
function filled(size: number, seed: number, positive = false): Float64Array {
  const a = sharedFloat64(size);
  for (let i = 0; i < size; i++) a[i] = positive ? 0.5 + Math.abs(Math.sin(1.3 * i + seed)) : Math.sin(0.37 * i + seed) + 0.2;
  return a;
}

/** Zero weights on upper-wall faces along each axis of a box (what the stencil kernels rely on). */
function wallWeights(n: number[], seed: number): Float64Array[] {
  const size = n.reduce((a, b) => a * b, 1);
  const strides = n.map((_, k) => n.slice(k + 1).reduce((a, b) => a * b, 1));
  return n.map((nk, k) => {
    const w = filled(size, seed + k, true);
    for (let i = 0; i < size; i++) if (Math.floor(i / strides[k]) % nk === nk - 1) w[i] = 0;
    return w;
  });
}

const bits = (a: Float64Array): string => Buffer.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).toString('base64');

/** Runs `work` with the WebAssembly kernels off, then on, from copies of the same inputs. */
function bothPaths<T>(inputs: Float64Array[], work: (arrays: Float64Array[]) => T): { js: T; wasm: T; jsArrays: Float64Array[]; wasmArrays: Float64Array[] } {
  const copy = (): Float64Array[] => inputs.map((a) => {
    const c = sharedFloat64(a.length);
    c.set(a);
    return c;
  });
  const jsArrays = copy();
  setWasmKernels(false);
  expect(wasmFor(...jsArrays)).toBeNull();
  const js = work(jsArrays);
  const wasmArrays = copy();
  setWasmKernels(true);
  expect(wasmFor(...wasmArrays)).not.toBeNull(); // the fast path really runs
  const wasm = work(wasmArrays);
  return { js, wasm, jsArrays, wasmArrays };
}

describe('WebAssembly kernels give the JavaScript loops\' bits', () => {
  it('runs: arrays are in the arena and the kernels are on', () => {
    expect(wasmKernelsEnabled()).toBe(true);
    const a = sharedFloat64(10);
    expect(inArena(a)).toBe(true);
  });

  const n2 = [37, 29];
  const n3 = [9, 7, 11];
  const size2 = n2[0] * n2[1];
  const size3 = n3[0] * n3[1] * n3[2];

  const cases: { name: RangeKernelName; size: number; arrays: () => Float64Array[]; ints?: () => Int32Array[]; params: number[]; out: number[] }[] = [
    { name: 'sym2', size: size2, arrays: () => [...wallWeights(n2, 1), filled(size2, 3, true), filled(size2, 4), sharedFloat64(size2)], params: [n2[1], size2], out: [4] },
    { name: 'shifted2', size: size2, arrays: () => [...wallWeights(n2, 1), filled(size2, 3, true), filled(size2, 4), sharedFloat64(size2)], params: [0.37, n2[1], size2], out: [4] },
    { name: 'shifted3', size: size3, arrays: () => [...wallWeights(n3, 1), filled(size3, 5, true), filled(size3, 6), sharedFloat64(size3)], params: [0.37, n3[1] * n3[2], n3[2], size3], out: [5] },
    {
      name: 'apply2',
      size: size2,
      arrays: () => {
        const [f0, f1] = wallWeights(n2, 7);
        const [b0, b1] = wallWeights(n2, 9);
        return [f0, b0, f1, b1, filled(size2, 11, true), filled(size2, 12), sharedFloat64(size2)];
      },
      params: [n2[1], size2],
      out: [6],
    },
    { name: 'dot', size: size2, arrays: () => [filled(size2, 1), filled(size2, 2)], params: [], out: [] },
    { name: 'cgUpdate', size: size2, arrays: () => [filled(size2, 1), filled(size2, 2), filled(size2, 3), filled(size2, 4)], params: [0.731], out: [2, 3] },
    { name: 'lincomb', size: size2, arrays: () => [filled(size2, 1), filled(size2, 2), sharedFloat64(size2)], params: [0.3, -1.7], out: [2] },
    { name: 'scaleBy', size: size2, arrays: () => [filled(size2, 1, true), filled(size2, 2), sharedFloat64(size2)], params: [], out: [2] },
  ];
  for (const c of cases) {
    it(`${c.name}: same bits and the same partial result on sub-ranges`, () => {
      const inputs = c.arrays();
      for (const [lo, hi] of [
        [0, c.size],
        [13, c.size - 40],
      ]) {
        const r = bothPaths(inputs, (a) => RANGE_KERNELS[c.name](a, [], c.params, lo, hi));
        expect(Object.is(r.js, r.wasm)).toBe(true);
        for (const k of c.out) expect(bits(r.wasmArrays[k])).toBe(bits(r.jsArrays[k]));
      }
      // and the result is not trivially zero
      const r = bothPaths(inputs, (a) => RANGE_KERNELS[c.name](a, [], c.params, 0, c.size));
      const moved = c.out.length ? r.wasmArrays[c.out[0]].some((v, i) => v !== inputs[c.out[0]][i]) : r.wasm !== 0;
      expect(moved).toBe(true);
    });
  }

  /** 2×2(×2) aggregation of a box, as solvers/multigrid.ts builds it. */
  function aggregates(n: number[]): { agg: Int32Array; coarse: number } {
    const size = n.reduce((a, b) => a * b, 1);
    const nc = n.map((m) => Math.ceil(m / 2));
    const agg = sharedInt32(size);
    for (let i = 0; i < size; i++) {
      let rem = i;
      let I = 0;
      for (let k = 0; k < n.length; k++) {
        const stride = n.slice(k + 1).reduce((a, b) => a * b, 1);
        const ck = Math.floor(rem / stride);
        rem %= stride;
        I = I * nc[k] + (ck >> 1);
      }
      agg[i] = I;
    }
    return { agg, coarse: nc.reduce((a, b) => a * b, 1) };
  }

  for (const n of [n2, n3]) {
    const size = n.reduce((a, b) => a * b, 1);
    const strides = n.map((_, k) => n.slice(k + 1).reduce((a, b) => a * b, 1));
    it(`prolongAdd and restrictAfterFirstSweep (${n.length}-D): same bits`, () => {
      const { agg, coarse } = aggregates(n);
      const p = bothPaths([filled(size, 1, true), filled(coarse, 2), filled(size, 3)], (a) => RANGE_KERNELS.prolongAdd(a, [agg], [1.5], 0, size));
      expect(bits(p.wasmArrays[2])).toBe(bits(p.jsArrays[2]));
      const w = wallWeights(n, 4);
      // ranges of whole aggregates, as the callers split them
      const r = bothPaths([filled(size, 1, true), filled(size, 2), sharedFloat64(coarse), ...w], (a) => RANGE_KERNELS.restrictAfterFirstSweep(a, [agg], [0.37, size, ...strides, 0], 0, size));
      expect(bits(r.wasmArrays[2])).toBe(bits(r.jsArrays[2]));
      expect(r.wasmArrays[2].some((v) => v !== 0)).toBe(true);
    });

    it(`Gauss–Seidel sweeps and the restricted residual (${n.length}-D): same bits`, () => {
      const { agg, coarse } = aggregates(n);
      const w = wallWeights(n, 5);
      const diag = filled(size, 8, true);
      for (let i = 0; i < size; i++) diag[i] += 2;
      const inv = sharedFloat64(size);
      for (let i = 0; i < size; i++) inv[i] = 1 / diag[i];
      const st: LevelStencil = { size, w, strides, diag, inv };
      for (const forward of [true, false]) {
        const r = bothPaths([filled(size, 1), filled(size, 2)], ([b, x]) => gaussSeidel(st, 0.37, b, x, forward));
        expect(bits(r.wasmArrays[1])).toBe(bits(r.jsArrays[1]));
      }
      const rr = bothPaths([filled(size, 1), filled(size, 2), sharedFloat64(coarse)], ([b, x, bc]) => restrictResidual(st, 0.37, b, x, agg, filled(size, 6, true), bc));
      expect(bits(rr.wasmArrays[2])).toBe(bits(rr.jsArrays[2]));
    });
  }
});

describe('every description: the JavaScript and WebAssembly kernels give the same bits', () => {
  const shapes: Record<number, number[]> = { 1: [13], 2: [9, 7], 3: [5, 4, 3] };
  for (const d of descriptions()) {
    it(d.name, () => {
      const dim = (d.strides ?? []).length + 1;
      const n = shapes[dim];
      const size = n.reduce((a, b) => a * b, 1);
      const strides = n.map((_, k) => n.slice(k + 1).reduce((a, b) => a * b, 1));
      const inputs = d.arrays.map((_, k) => filled(size, 3 * k + 1, true));
      const agg = sharedInt32(size);
      for (let i = 0; i < size; i++) agg[i] = (i * 7) % size;
      const params = d.params.map((p, k) => (p === d.size ? size : (d.strides ?? []).includes(p) ? strides[Number(p.slice(1))] : 0.3 + 0.1 * k));
      const runOn = (backend: 'js' | 'wasm') => {
        const arrays = inputs.map((a) => {
          const c = sharedFloat64(a.length);
          c.set(a);
          return c;
        });
        const result = kernel(d.name, null, backend).range(arrays, d.ints ? [agg] : [], params, 0, size);
        return { result, arrays };
      };
      setWasmKernels(true);
      const js = runOn('js');
      const wasm = runOn('wasm');
      expect(wasmFor(...wasm.arrays, agg)).not.toBeNull(); // the WebAssembly twin really ran
      expect(Object.is(js.result, wasm.result)).toBe(true);
      for (let k = 0; k < inputs.length; k++) expect(bits(wasm.arrays[k]), d.arrays[k]).toBe(bits(js.arrays[k]));
      // and something happened
      expect(d.reduce ? js.result !== 0 : js.arrays.some((a, k) => bits(a) !== bits(inputs[k]))).toBe(true);
    });
  }
});

describe('the operator built by WebAssembly and by JavaScript', () => {
  // The double well at ησ = 0.0005 (α ≈ 4000) has ψ jumps far beyond 745 between cells: the
  // symmetric weight's other branch and Bernoulli's 0 run too. The others cover 1-D and 3-D strides.
  for (const [name, cells, extra] of [
    ['gbm-collapse-1d', 'domain.cells=[400]', ''],
    ['double-well-2d', 'domain.cells=[40,33]', ''],
    ['double-well-2d', 'domain.cells=[40,33]', 'noise.sigma=0.01'],
    ['quadratic-floor-3d', 'domain.cells=[9,8,7]', ''],
  ] as const) {
    it(`${name} (${cells}${extra ? ', ' + extra : ''}): face coefficients, out-flow and √π agree to the last bit`, () => {
      const build = (on: boolean): FvOperator => {
        setWasmKernels(on);
        return setupOf(name, extra ? [cells, extra] : [cells]).setup.op;
      };
      const js = build(false);
      const wasm = build(true);
      for (let k = 0; k < js.grid.dim; k++) {
        expect(bits(wasm.fwd[k])).toBe(bits(js.fwd[k]));
        expect(bits(wasm.bwd[k])).toBe(bits(js.bwd[k]));
        expect(bits(wasm.sym[k])).toBe(bits(js.sym[k]));
      }
      expect(bits(wasm.outflow)).toBe(bits(js.outflow));
      expect(bits(wasm.sqrtPi)).toBe(bits(js.sqrtPi));
      if (extra) {
        let zMax = 0;
        const psi = js.problem.psi;
        for (let i = 0; i + 1 < psi.length; i++) zMax = Math.max(zMax, Math.abs(psi[i + 1] - psi[i]));
        expect(zMax).toBeGreaterThan(1490); // the large-jump branches (a ≥ 600, a/2 > 745) really ran
      }
    });
  }
});

describe('the multigrid hierarchy built by WebAssembly and by JavaScript', () => {
  for (const [name, cells] of [
    ['double-well-2d', 'domain.cells=[75,64]'],
    ['quadratic-floor-3d', 'domain.cells=[13,10,9]'],
  ] as const) {
    it(`${name} (${cells}, odd sizes): every level's aggregates, weights and stencil agree to the last bit, and so does the shifted diagonal`, () => {
      const { setup } = setupOf(name, [cells]);
      const build = (on: boolean): MultigridPreconditioner => {
        setWasmKernels(on);
        const mg = new MultigridPreconditioner(setup.op);
        mg.setup(0.37);
        return mg;
      };
      const js = build(false);
      const wasm = build(true);
      expect(wasm.levels.length).toBe(js.levels.length);
      expect(js.levels.length).toBeGreaterThan(2);
      for (let l = 0; l < js.levels.length; l++) {
        const a = js.levels[l];
        const b = wasm.levels[l];
        expect(b.n).toEqual(a.n);
        expect(bits(b.d)).toBe(bits(a.d));
        expect(bits(b.inv)).toBe(bits(a.inv));
        expect(bits(b.stencil.diag)).toBe(bits(a.stencil.diag));
        b.stencil.w.forEach((w, k) => expect(bits(w)).toBe(bits(a.stencil.w[k])));
        if (a.pw) {
          expect(bits(b.pw!)).toBe(bits(a.pw));
          expect(Array.from(b.agg!)).toEqual(Array.from(a.agg!));
        }
      }
    });
  }
});

describe('whole solves with the WebAssembly kernels on and off', () => {
  it('TR-BDF2 (multigrid-PCG) and the exponential integrator: the same density to the last bit, the same iterations', async () => {
    const { setup, rho } = setupOf('double-well-2d', ['domain.cells=[96,96]']);
    const op = setup.op;
    const run = async (on: boolean, which: 'trbdf2' | 'exp'): Promise<{ x: Float64Array; its: number }> => {
      setWasmKernels(on);
      const be = cpuBackend(op, 'multigrid');
      const integ = which === 'trbdf2' ? new DeviceTrBdf2(be, op, { tolerance: 1e-4, dtMax: 0.2 }, cgSettings(1e-4)) : new DeviceExponential(be, op, { tolerance: 1e-4, dtMax: 0.2 }, exponentialCgSettings(1e-4));
      const x = rho.slice();
      await integ.advance(x, 0, 0.2);
      integ.dispose();
      return { x, its: integ.solver.iterations };
    };
    for (const which of ['trbdf2', 'exp'] as const) {
      const off = await run(false, which);
      const on = await run(true, which);
      expect(on.its).toBe(off.its);
      expect(on.its).toBeGreaterThan(0);
      expect(bits(on.x)).toBe(bits(off.x));
    }
  });
});

describe('arena', () => {
  it('hands out zeroed, non-overlapping arrays and counts them', () => {
    const before = arenaStats();
    expect(before).not.toBeNull();
    const arrays = [1000, 1, 4097, 65536].map((n) => sharedFloat64(n));
    const ints = sharedInt32(333);
    const after = arenaStats();
    expect(after!.blocks).toBeGreaterThanOrEqual(before!.blocks + 5);
    expect(after!.used - before!.used).toBeGreaterThanOrEqual(8 * (1000 + 1 + 4097 + 65536) + 4 * 333);
    for (const a of arrays) expect(a.every((v) => v === 0)).toBe(true);
    arrays.forEach((a, k) => a.fill(k + 1));
    ints.fill(-7);
    arrays.forEach((a, k) => expect(a.every((v) => v === k + 1)).toBe(true));
    expect(ints.every((v) => v === -7)).toBe(true);
    // the views really address the arena memory: their byte ranges are disjoint
    const spans = [...arrays, ints].map((a) => [a.byteOffset, a.byteOffset + a.byteLength]).sort((p, q) => p[0] - q[0]);
    for (let k = 1; k < spans.length; k++) expect(spans[k][0]).toBeGreaterThanOrEqual(spans[k - 1][1]);
  });

  it('a backend returns its fields and its preconditioner\'s arrays to the arena on dispose(), not when they are collected, and refuses use afterwards', async () => {
    const op = setupOf('double-well-2d', ['domain.cells=[40,33]']).setup.op;
    const backend = cpuBackend(op, 'jacobi');
    const fields = [backend.field(), backend.field(), backend.field()];
    await backend.upload(fields[0], Float64Array.from({ length: op.grid.size }, (_, i) => i));
    // From here to `after` no await: no finalization callback can run in between, so what comes
    // back is what dispose() returned: the three fields and the Jacobi preconditioner's 1/(1 + θd).
    const held = arenaStats()!;
    backend.dispose();
    const after = arenaStats()!;
    const block = Math.ceil((8 * op.grid.size) / 64) * 64;
    expect(held.used - after.used).toBe(4 * block);
    expect(held.blocks - after.blocks).toBe(4);
    await expect(backend.apply(fields[0], fields[1])).rejects.toThrow(/after dispose/);
    const again = arenaStats()!;
    backend.dispose(); // twice is harmless: nothing is returned twice
    expect(arenaStats()!.used).toBe(again.used);
    // the next run gets the same memory back, zeroed
    const next = cpuBackend(op, 'jacobi');
    const f = next.field();
    const out = new Float64Array(op.grid.size);
    await next.download(f, out);
    expect(out.every((v) => v === 0)).toBe(true);
    expect(arenaStats()!.capacity).toBe(after.capacity);
    next.dispose();
  });
});

describe('the JavaScript fallback, in fresh processes', () => {
  // The arena and the kernel switch are fixed at start-up, so each setting gets its own process.
  const script = `
    const { setUpReference } = await import(${JSON.stringify(join(ROOT, 'dist/test/bench/reference-problem.js'))});
    const { initialDensity } = await import(${JSON.stringify(join(ROOT, 'dist/src/run/initial.js'))});
    const { DeviceTrBdf2 } = await import(${JSON.stringify(join(ROOT, 'dist/solvers/backend/implicit.js'))});
    const { cgSettings, cpuBackend } = await import(${JSON.stringify(join(ROOT, 'dist/solvers/backend/choose.js'))});
    const { wasmKernelsEnabled } = await import(${JSON.stringify(join(ROOT, 'dist/solvers/exec/arena.js'))});
    const setup = setUpReference(80);
    const rho = initialDensity(setup.grid, setup.scenario.initial, { file: setup.file, baseDir: ${JSON.stringify(ROOT)} });
    const backend = cpuBackend(setup.op, 'multigrid');
    const integ = new DeviceTrBdf2(backend, setup.op, { tolerance: 1e-4, dtMax: 0.2 }, cgSettings(1e-4));
    await integ.advance(rho, 0, 0.2);
    integ.dispose();
    const { createHash } = await import('node:crypto');
    console.log(JSON.stringify({ notes: backend.info.notes ?? [], wasm: wasmKernelsEnabled(), its: integ.solver.iterations, hash: createHash('sha256').update(new Uint8Array(rho.buffer)).digest('hex') }));
  `;
  interface Outcome {
    notes: string[];
    wasm: boolean;
    its: number;
    hash: string;
  }
  const run = (env: NodeJS.ProcessEnv): Outcome => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Outcome;
  };
  it('an arena too small for the grid (the arrays fall back to SharedArrayBuffers, as beyond 4 GiB) and FPSOLVE_WASM=0 give the same bits, and the backend says why it ran JavaScript', () => {
    const base = run({});
    expect(base.wasm).toBe(true);
    expect(base.its).toBeGreaterThan(0);
    expect(base.notes).toEqual([]);
    // 1 MiB holds a few of the 51 KiB grid arrays; the rest fall back, so kernels see mixed arrays
    const small = run({ FPSOLVE_ARENA_MAX_MIB: '1' });
    expect({ ...small, notes: [] }).toEqual(base);
    expect(small.notes).toHaveLength(1);
    expect(small.notes[0]).toMatch(/did not fit the WebAssembly arena \(at most 1 MiB\): the kernels ran as JavaScript/);
    const js = run({ FPSOLVE_WASM: '0' });
    expect(js.wasm).toBe(false);
    expect(js.notes[0]).toMatch(/FPSOLVE_WASM=0/);
    expect({ ...js, wasm: true, notes: [] }).toEqual(base);
  });
});
