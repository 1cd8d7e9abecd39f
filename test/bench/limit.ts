/**
 * How close one multigrid-PCG iteration comes to the memory-bandwidth limit, and whether the
 * iteration count stays flat with the grid (issue #19, item 6).
 *
 *   node dist/test/bench/limit.js [--sizes 512,1024] [--counts] [--counts3d] [--reps 7] [--out FILE]
 *
 * In one process, per grid: the copy-scale bandwidth (b = c·a over arrays of the grid's length,
 * median of repetitions), then one PCG iteration of solvers/backend/pcg.ts as the CPU backend
 * runs it (shifted apply with ⟨p, q⟩ in the same pass, the CG update with ‖r‖², the multigrid cycle, ⟨r, z⟩, the
 * direction update), timed as a whole and by part. The bytes it must move are counted from the
 * kernel descriptions themselves (solvers/kernels/stencils.ts): every f64 array a kernel reads
 * or writes costs 8 bytes per cell of its range (read and written: 16), an i32 index array 4,
 * a gather or scatter onto the coarse level 8 (16) per coarse cell; the multigrid's calls are
 * walked level by level as MultigridPreconditioner.cycle makes them (bytesPerIteration).
 * time / (bytes ÷ copy bandwidth) is the ratio the issue asks to keep within 2.
 */
import { buildOperator, gaussianBump } from '../helpers/problems.js';
import { HostPcg } from '../helpers/host-pcg.js';
import { CpuBackend } from '../../solvers/backend/cpu.js';
import { MultigridPreconditioner, DEFAULT_MULTIGRID, levelBandwidth } from '../../solvers/multigrid.js';
import { sharedFloat64 } from '../../solvers/shared-memory.js';
import { RANGE_KERNELS } from '../../solvers/range-kernels.js';
import { descriptions } from '../../solvers/kernels/registry.js';
import { reads, type KernelDesc } from '../../solvers/kernels/describe.js';
import { ThreadTeam } from '../../solvers/exec/team.js';
import type { FvOperator } from '../../solvers/operator.js';
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

/** The 2-D reference problem (docs/peers.md) and its 3-D analogue f = 0.05 + (x²−1)² + y² + z². */
export function referenceOperator(n: number, dim: 2 | 3): FvOperator {
  const noise = { kind: 'multiplicative' as const, etaSigma: 0.5, eps: 0 };
  if (dim === 2) return buildOperator([[-2, 2], [-2, 2]], [n, n], (x, y) => 0.05 + (x * x - 1) ** 2 + y * y, noise);
  return buildOperator([[-2, 2], [-2, 2], [-2, 2]], [n, n, n], (x, y, z) => 0.05 + (x * x - 1) ** 2 + y * y + z * z, noise);
}

const DESC = new Map<string, KernelDesc>(descriptions().map((d) => [d.name, d]));

/**
 * Bytes one call of a described kernel moves over `cells` fine cells, with `coarse` cells on the
 * level its gathers and scatters address: each distinct f64 array read costs 8 per cell, each one
 * stored 8 more, an i32 index array 4, a gathered coarse array 8 per coarse cell, a scatter-add
 * target 16 per coarse cell (read and written).
 */
export function kernelBytes(name: string, cells: number, coarse = 0): number {
  const d = DESC.get(name);
  if (!d) throw new Error(`no kernel ${name}`);
  const read = new Set(reads(d).map((r) => r.arr));
  const gathered = new Set<string>();
  const walk = (e: unknown): void => {
    const x = e as { k: string; arr?: string; a?: unknown; b?: unknown };
    if (x.k === 'gather') gathered.add(x.arr as string);
    if (x.a) walk(x.a);
    if (x.b) walk(x.b);
  };
  let bytes = 0;
  const stored = new Set<string>();
  for (const s of d.body) {
    walk(s.v);
    if (s.k === 'store') stored.add(s.arr);
    if (s.k === 'scatterAdd') bytes += 16 * coarse;
  }
  if (d.reduce) walk(d.reduce.v);
  bytes += 8 * cells * read.size + 8 * cells * stored.size + 8 * coarse * gathered.size + 4 * cells * (d.ints?.length ?? 0);
  return bytes;
}

export interface ByteLine {
  what: string;
  bytes: number;
}

/**
 * The bytes of one PCG iteration (solvers/backend/pcg.ts's loop body) with the multigrid cycle of
 * `mg` (MultigridPreconditioner.cycle: zero, forward sweep, restriction after the first sweep,
 * coarse cycle(s), prolongation, backward sweep; W below the finest level, the second coarse
 * correction after restrictResidual), per level.
 */
export function bytesPerIteration(mg: MultigridPreconditioner, dim: number): ByteLine[] {
  const lv = mg.levels;
  const N = lv[0].size;
  const out: ByteLine[] = [
    { what: `shiftedDot${dim} (I − θS)p and ⟨p, q⟩`, bytes: kernelBytes(`shiftedDot${dim}`, N) },
    { what: 'cgUpdate', bytes: kernelBytes('cgUpdate', N) },
    { what: 'dot ⟨r, z⟩', bytes: kernelBytes('dot', N) },
    { what: 'lincomb p = z + βp', bytes: kernelBytes('lincomb', N) },
  ];
  const perLevel = new Array<number>(lv.length).fill(0);
  const visit = (l: number): void => {
    const L = lv[l];
    if (l === lv.length - 1) {
      // Cholesky on the factor's band (levelBandwidth): m (bw + 1) doubles read twice.
      perLevel[l] += 16 * L.size * (levelBandwidth(L) + 1) + 16 * L.size;
      return;
    }
    const c = lv[l + 1].size;
    const { cycle, fineV, sweeps } = DEFAULT_MULTIGRID;
    const reps = cycle === 'W' && l + 2 < lv.length && !(l === 0 && fineV) ? 2 : 1;
    let b = kernelBytes('zero', L.size);
    b += 2 * sweeps * kernelBytes(`gsForward${dim}`, L.size);
    for (let r = 0; r < reps; r++) {
      b += r === 0 ? kernelBytes(`restrictSweep${dim}`, L.size, c) : kernelBytes(`restrictResidual${dim}`, L.size, c);
      b += kernelBytes('prolongAdd', L.size, c);
      visit(l + 1);
    }
    perLevel[l] += b;
  };
  visit(0);
  perLevel.forEach((b, l) => out.push({ what: `multigrid level ${l} (${lv[l].n.filter((m) => m > 1).join('×') || '1'})`, bytes: b }));
  return out;
}

export interface LimitResult {
  grid: string;
  cells: number;
  levels: number;
  /** The fastest of copy-scale (JavaScript), scale in place (WebAssembly) and memcpy, 16 bytes per cell. */
  copyMs: number;
  copyGBs: number;
  /** Bytes one PCG iteration must move, and the bound they give at the copy bandwidth. */
  bytes: number;
  boundMs: number;
  /** One iteration on one thread: all of it, the multigrid cycle, the rest (CPU time). */
  iterMs: number;
  cycleMs: number;
  vectorMs: number;
  /** Median over repetitions of iteration / bound, each from a copy and an iteration timed back to back. */
  ratio: number;
  /** The same on the backend's kernel threads, wall clock (null below 512² or on one core). */
  threads: number;
  copyThreadedMs: number | null;
  iterThreadedMs: number | null;
  ratioThreaded: number | null;
  lines: ByteLine[];
}

type Clock = () => number;
const wall: Clock = () => performance.now();
/**
 * This process's CPU time in ms: on a machine shared with other jobs, the time the single-thread
 * passes actually ran (wall time counts the waits for a core too). Valid only while no other
 * thread of this process works (the single-thread measurements start no kernel threads).
 */
const cpu: Clock = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Mean time of `inner` calls of `f`. */
function batch(f: () => void, inner: number, clock: Clock): number {
  const t = clock();
  for (let k = 0; k < inner; k++) f();
  return (clock() - t) / inner;
}

export async function limitBench(n: number, dim: 2 | 3, reps: number): Promise<LimitResult> {
  const op = referenceOperator(n, dim);
  const N = op.grid.size;
  const theta = 0.02;
  // Batches of ≥ ~20 ms at 512² so that the CPU clock's resolution does not matter.
  const inner = Math.max(4, Math.round(2 ** 22 / N));
  const a = sharedFloat64(N);
  const c = sharedFloat64(N);
  for (let i = 0; i < N; i++) a[i] = 1 + Math.sin(i);
  const copyScale = (): void => {
    for (let i = 0; i < N; i++) c[i] = 1.0000001 * a[i];
  };
  // The same traffic (one array read, one written) as the generated WebAssembly kernel in place,
  // and as memcpy: the bound uses the fastest of the three, so it is not flattered by a slow loop.
  const scaleKernel = RANGE_KERNELS.scale;
  let flip = false;
  const wasmScale = (): void => {
    flip = !flip;
    scaleKernel([c], [], [flip ? 1.0000001 : 1 / 1.0000001], 0, N);
  };
  const memcpy = (): void => c.set(a);
  for (let w = 0; w < 5; w++) {
    copyScale();
    wasmScale();
    memcpy();
  }
  const copyTime = (clock: Clock): number => Math.min(batch(copyScale, inner, clock), batch(wasmScale, inner, clock), batch(memcpy, inner, clock));

  const mgFor = new MultigridPreconditioner(op);
  const lines = bytesPerIteration(mgFor, dim);
  mgFor.dispose();
  const bytes = lines.reduce((s, l) => s + l.bytes, 0);

  // One PCG iteration (the loop body of Pcg.solve) on a backend of `blocks` blocks, with fixed α
  // and β (their values do not change the work).
  const setupBackend = async (blocks: number) => {
    const mg = new MultigridPreconditioner(op);
    const backend = new CpuBackend(op, mg, { blocks, threads: blocks > 1 ? undefined : 1 });
    const f = { p: backend.field(), q: backend.field(), y: backend.field(), r: backend.field(), z: backend.field() };
    const start = gaussianBump(op.grid, dim === 2 ? [1, 0] : [1, 0, 0], 0.2);
    for (const v of [f.r, f.p, f.y]) await backend.upload(v, start);
    mg.setup(theta);
    const vecPart = async (): Promise<void> => {
      await backend.shiftedDot(theta, f.p, f.q);
      await backend.cgUpdate(1e-30, f.p, f.q, f.y, f.r);
      await backend.dot(f.r, f.z);
      await backend.lincomb(1, f.z, 0.5, f.p, f.p);
    };
    const cyclePart = async (): Promise<void> => backend.precondition(theta, f.r, f.z);
    const t0 = performance.now();
    while (blocks > 1 && backend.runningThreads < Math.min(blocks, cpus().length) && performance.now() - t0 < 20000) await vecPart();
    for (let w = 0; w < 3; w++) {
      await vecPart();
      await cyclePart();
    }
    return { backend, vecPart, cyclePart };
  };
  const abatch = async (f: () => Promise<void>, clock: Clock): Promise<number> => {
    const t = clock();
    for (let k = 0; k < inner; k++) await f();
    return (clock() - t) / inner;
  };

  // Single thread, CPU time: per repetition a copy, the cycle, the vector part and the whole iteration.
  const one = await setupBackend(1);
  const copies: number[] = [];
  const cyc: number[] = [];
  const vec: number[] = [];
  const it: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < reps; r++) {
    const cp = copyTime(cpu);
    cyc.push(await abatch(one.cyclePart, cpu));
    vec.push(await abatch(one.vecPart, cpu));
    const t = await abatch(async () => {
      await one.vecPart();
      await one.cyclePart();
    }, cpu);
    it.push(t);
    copies.push(cp);
    ratios.push(t / (bytes / ((16 * N) / cp)));
  }
  one.backend.dispose();
  const copyMs = median(copies);
  const copyGBs = (16 * N) / (copyMs * 1e6);

  // All cores, wall clock: the copy on the same team of threads (lincomb with a zero second
  // coefficient reads one array and writes one).
  let threaded: { threads: number; copy: number; iter: number; ratio: number } | null = null;
  if (N >= 512 * 512 && cpus().length > 1) {
    const many = await setupBackend(8);
    const threads = many.backend.runningThreads;
    const team = ThreadTeam.create(threads, 8);
    if (team) {
      const teamCopy = (): void => void team.run('lincomb', [a, a, c], [], [1.0000001, 0], N);
      const t1 = performance.now();
      while (!team.ready() && performance.now() - t1 < 20000) teamCopy();
      const tc: number[] = [];
      const ti: number[] = [];
      const tr: number[] = [];
      for (let r = 0; r < reps; r++) {
        const cp = batch(teamCopy, inner, wall);
        const t = await abatch(async () => {
          await many.vecPart();
          await many.cyclePart();
        }, wall);
        tc.push(cp);
        ti.push(t);
        tr.push(t / (bytes / ((16 * N) / cp)));
      }
      team.close();
      threaded = { threads, copy: median(tc), iter: median(ti), ratio: median(tr) };
    }
    many.backend.dispose();
  }
  const levels = lines.filter((l) => l.what.startsWith('multigrid')).length;
  op.dispose();
  return {
    grid: dim === 2 ? `${n}²` : `${n}³`,
    cells: N,
    levels,
    copyMs,
    copyGBs,
    bytes,
    boundMs: bytes / (copyGBs * 1e6),
    iterMs: median(it),
    cycleMs: median(cyc),
    vectorMs: median(vec),
    ratio: median(ratios),
    threads: threaded?.threads ?? 1,
    copyThreadedMs: threaded?.copy ?? null,
    iterThreadedMs: threaded?.iter ?? null,
    ratioThreaded: threaded?.ratio ?? null,
    lines,
  };
}

export interface CountLine {
  grid: string;
  levels: number;
  iterations: number;
}

/** Multigrid-PCG iterations of one solve (θ = 0.02, relative tolerance 1e-8) from the reference Gaussian. */
export async function countIterations(n: number, dim: 2 | 3, theta = 0.02, tol = 1e-8): Promise<CountLine> {
  const op = referenceOperator(n, dim);
  const b = gaussianBump(op.grid, dim === 2 ? [1, 0] : [1, 0, 0], 0.2);
  const mg = new MultigridPreconditioner(op);
  const cg = new HostPcg(op, mg, { tol, maxIterations: 5000 });
  await cg.solve(theta, b, b.slice());
  const levels = mg.levels.length;
  op.dispose();
  return { grid: dim === 2 ? `${n}²` : `${n}³`, levels, iterations: cg.iterations };
}

function machine(): string {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = execSync("lscpu | grep 'Model name'", { encoding: 'utf8' }).replace(/Model name:\s*/, '').trim();
  } catch {
    // lscpu missing: keep Node's name.
  }
  return `${model}, ${cpus().length} cores, Node ${process.version}`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const sizes = (opt('--sizes') ?? '512,1024').split(',').filter(Boolean).map(Number);
  const reps = Number(opt('--reps') ?? 7);
  const md: string[] = [];
  const la0 = loadavg();
  md.push(`Machine: ${machine()}; ${new Date().toISOString()}; load average at start ${la0.map((x) => x.toFixed(2)).join(' / ')}.`, '');
  const results: LimitResult[] = [];
  for (const n of sizes) {
    const r = await limitBench(n, 2, reps);
    results.push(r);
    console.error(JSON.stringify({ ...r, lines: undefined }));
  }
  if (results.length) {
    md.push('| grid | levels | copy ms (GB/s) | bytes / iteration (MiB) | bound ms | iteration ms (cycle + vectors) | iteration / bound | threads | copy ms, threads | iteration ms, threads | / bound, threads |', '|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of results)
      md.push(`| ${r.grid} | ${r.levels} | ${r.copyMs.toFixed(3)} (${r.copyGBs.toFixed(1)}) | ${(r.bytes / 2 ** 20).toFixed(1)} | ${r.boundMs.toFixed(2)} | ${r.iterMs.toFixed(2)} (${r.cycleMs.toFixed(2)} + ${r.vectorMs.toFixed(2)}) | ${r.ratio.toFixed(2)}× | ${r.threads} | ${r.copyThreadedMs?.toFixed(3) ?? '–'} | ${r.iterThreadedMs?.toFixed(2) ?? '–'} | ${r.ratioThreaded ? r.ratioThreaded.toFixed(2) + '×' : '–'} |`);
    md.push('', 'Bytes per iteration, by kernel (first grid):', '', '| pass | MiB |', '|---|---|');
    for (const l of results[0].lines) md.push(`| ${l.what} | ${(l.bytes / 2 ** 20).toFixed(2)} |`);
  }
  const counts: CountLine[] = [];
  if (args.includes('--counts')) for (const n of (opt('--counts-sizes') ?? '128,256,512,1024,2048').split(',').map(Number)) counts.push(await countIterations(n, 2));
  if (args.includes('--counts3d')) for (const n of (opt('--counts3d-sizes') ?? '32,64,128').split(',').map(Number)) counts.push(await countIterations(n, 3));
  if (counts.length) {
    md.push('', '| grid | levels | multigrid-PCG iterations |', '|---|---|---|');
    for (const c of counts) {
      md.push(`| ${c.grid} | ${c.levels} | ${c.iterations} |`);
      console.error(JSON.stringify(c));
    }
  }
  const la1 = loadavg();
  md.push('', `Load average at end ${la1.map((x) => x.toFixed(2)).join(' / ')} (2 cores shared by eight engineers: above 2 the machine was busy).`);
  const text = md.join('\n') + '\n';
  const out = opt('--out');
  if (out) writeFileSync(out, text);
  process.stdout.write(text);
}

if (process.argv[1]?.endsWith('limit.js')) await main();
