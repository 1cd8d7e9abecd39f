/** Operator apply vs a copy-scale loop over arrays of the same length, in one process. */
import { buildOperator } from '../helpers/problems.js';
import { defaultThreads, ThreadTeam } from '../../solvers/exec/team.js';
import { sharedFloat64 } from '../../solvers/shared-memory.js';
import '../../solvers/range-kernels.js';
import { setWasmKernels, wasmKernelsEnabled } from '../../solvers/exec/arena.js';
import { applyA, applyS } from '../../solvers/kernels/operator-kernels.js';

export interface KernelResult {
  n: number;
  copyScaleMs: number;
  copyGBs: number;
  applyMs: number;
  applyBytes: number;
  applyGBs: number;
  /** apply time / (apply bytes / copy-scale bandwidth): 1 = at the measured bandwidth. */
  applyOverBound: number;
  symMs: number;
  /** The same apply with the WebAssembly kernels off (the JavaScript loops), and its ratio to the bound. */
  applyJsMs: number;
  applyJsOverBound: number;
  /** Whether applyMs ran the WebAssembly kernel. */
  wasm: boolean;
  /** The same apply split across all cores (kernel threads), when there are several. */
  threads: number;
  threadedApplyMs: number | null;
  threadedOverBound: number | null;
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

export function kernelBench(n: number, reps: number): KernelResult {
  const op = buildOperator([[-2, 2], [-2, 2]], [n, n], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
  const N = op.grid.size;
  const a = sharedFloat64(N);
  for (let i = 0; i < N; i++) a[i] = 1 + Math.sin(i);
  const b = sharedFloat64(N);
  const copyScale = (): void => {
    for (let i = 0; i < N; i++) b[i] = 1.0000001 * a[i];
  };
  const time = (f: () => void, inner: number): number => {
    const t = performance.now();
    for (let k = 0; k < inner; k++) f();
    return (performance.now() - t) / inner;
  };
  const inner = Math.max(3, Math.round(2 ** 22 / N));
  const cs: number[] = [];
  const ap: number[] = [];
  const sy: number[] = [];
  const js: number[] = [];
  for (let w = 0; w < 3; w++) {
    copyScale();
    applyA(op, a, b);
    applyS(op, a, b);
  }
  for (let r = 0; r < reps; r++) {
    cs.push(time(copyScale, inner));
    ap.push(time(() => applyA(op, a, b), inner));
    sy.push(time(() => applyS(op, a, b), inner));
    setWasmKernels(false);
    js.push(time(() => applyA(op, a, b), inner));
    setWasmKernels(true);
  }
  const team = ThreadTeam.create(defaultThreads());
  const th: number[] = [];
  if (team) {
    const { fwd, bwd, outflow } = op;
    const applyThreaded = (): void => void team.run('apply2', [fwd[0], bwd[0], fwd[1], bwd[1], outflow, a, b], [], [op.grid.strides[0], N], N);
    const t0 = performance.now();
    while (!team.ready() && performance.now() - t0 < 10000) applyThreaded();
    for (let r = 0; r < reps; r++) th.push(time(applyThreaded, inner));
    team.close();
  }
  const csMs = median(cs);
  const apMs = median(ap);
  // ρ-form apply must read fwd and bwd per axis, the out-flow sum and ρ, and write out.
  const applyBytes = (2 * op.grid.dim + 3) * 8 * N;
  const copyBytes = 2 * 8 * N;
  const copyGBs = copyBytes / (csMs * 1e6);
  const applyGBs = applyBytes / (apMs * 1e6);
  const bound = applyBytes / (copyGBs * 1e6);
  const thMs = th.length ? median(th) : null;
  return { n, copyScaleMs: csMs, copyGBs, applyMs: apMs, applyBytes, applyGBs, applyOverBound: apMs / bound, symMs: median(sy), applyJsMs: median(js), applyJsOverBound: median(js) / bound, wasm: wasmKernelsEnabled(), threads: team?.threads ?? 1, threadedApplyMs: thMs, threadedOverBound: thMs === null ? null : thMs / bound };
}
