/**
 * The run's analysis passes on big grids (issue #19, whole-process time outside the solvers), for
 * this build and (with `--base DIR`) another built checkout, interleaved, each measurement in a
 * fresh process (cold, as a user's run meets them): CPU ms of the flood behind the Kramers
 * prediction (floodMerges), of the whole kramersPrediction and of basinLabels on the 2-D reference
 * landscape (bench/reference-2d.yaml: f = 0.05 + (x² − 1)² + y² on [−2, 2]², ησ = 0.5), plus a
 * checksum of the merges and of the report points' KL so that a speed-up that changed the answer
 * shows; and CPU ms of 11 report points' sums (DistanceTracker.measure) and of the walls
 * diagnostic's outer-layer passes. All CPU times of this process (process.cpuUsage).
 *
 *   npx tsc -p tsconfig.json && node dist/test/bench/analysis-bench.js [--n 256,512] [--repeats 3] [--base /work/main]
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/paths.js';

interface Sample {
  flood: number;
  floodWarm: number;
  kramers: number;
  basins: number;
  /** 11 report points (t = 0, 0.1, …, 1 of the reference run), summed. */
  measure: number;
  /** outerLayerFraction of ρ and of π (the walls diagnostic's full passes). */
  walls: number;
  merges: number;
  checksum: number;
}

async function child(build: string, n: number): Promise<void> {
  const mod = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(join(build, 'dist', rel)).href)) as T;
  const { Grid } = await mod<typeof import('../../solvers/grid.js')>('solvers/grid.js');
  const { compileExpr } = await mod<typeof import('../../src/landscape/expr.js')>('src/landscape/expr.js');
  const { floodMerges } = await mod<typeof import('../../src/estimators/critical-points.js')>('src/estimators/critical-points.js');
  const { kramersPrediction } = await mod<typeof import('../../src/estimators/kramers.js')>('src/estimators/kramers.js');
  const { basinLabels } = await mod<typeof import('../../src/diagnostics/basins.js')>('src/diagnostics/basins.js');
  const { DistanceTracker } = await mod<typeof import('../../src/diagnostics/distances.js')>('src/diagnostics/distances.js');
  const { outerLayerFraction } = await mod<typeof import('../../src/diagnostics/walls.js')>('src/diagnostics/walls.js');
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const grid = new Grid([[-2, 2], [-2, 2]], [n, n]);
  const expr = compileExpr('0.05 + (x^2 - 1)^2 + y^2', {}, 2);
  const fc = new Float64Array(grid.size);
  expr.evalPoints([grid.coordinateField(0), grid.coordinateField(1)], fc);
  let t = cpu();
  const merges = floodMerges(grid, fc);
  const flood = cpu() - t;
  t = cpu();
  floodMerges(grid, fc);
  const floodWarm = cpu() - t;
  let checksum = 0;
  for (const [i, m] of merges.entries()) checksum = (checksum * 31 + m.deepCell * 7 + m.shallowCell * 13 + m.saddleCell + i) % 1_000_000_007;
  t = cpu();
  kramersPrediction(grid, expr, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 }, null);
  const kramers = cpu() - t;
  t = cpu();
  basinLabels(grid, fc);
  const basins = cpu() - t;
  // The reference run's law (a Problem: π ∝ f^−5, ησ = 0.5, with E log f) and start (a Gaussian at (1, 0)).
  const { Problem, isFault } = await mod<typeof import('../../solvers/problem.js')>('solvers/problem.js');
  const landscape = (c: readonly Float64Array[], o: Float64Array): void => expr.evalPoints(c, o);
  const problem = Problem.build(grid, landscape, { kind: 'multiplicative', etaSigma: 0.5, eps: 0 });
  if (isFault(problem)) throw new Error('landscape fault');
  const x = grid.coordinateField(0);
  const y = grid.coordinateField(1);
  const rho = fc.map((_, i) => Math.exp(-((x[i] - 1) ** 2 + y[i] ** 2) / 0.08));
  const tracker = new DistanceTracker(problem, 0.1, [], landscape);
  const piT = problem.piShared();
  t = cpu();
  for (let r = 0; r <= 10; r++) {
    // Each report point sees a different ρ (the same work; keeps the calls from being folded).
    rho[r] *= 1.0000001;
    const p = tracker.measure(r / 10, rho);
    checksum = (checksum + Math.round(p.kl * 1e6)) % 1_000_000_007;
  }
  const measure = cpu() - t;
  t = cpu();
  outerLayerFraction(grid, rho);
  outerLayerFraction(grid, piT);
  const walls = cpu() - t;
  const s: Sample = { flood, floodWarm, kramers, basins, measure, walls, merges: merges.length, checksum };
  process.stdout.write(JSON.stringify(s));
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  if (args[0] === '--child') {
    void child(args[1], Number(args[2]));
    return;
  }
  const sizes = opt('--n', '256,512').split(',').map(Number);
  const repeats = Number(opt('--repeats', '3'));
  const base = args.includes('--base') ? resolve(opt('--base', '')) : null;
  const builds = [{ label: 'this', dir: packageRoot() }, ...(base ? [{ label: 'base', dir: base }] : [])];
  const self = join(packageRoot(), 'dist', 'test', 'bench', 'analysis-bench.js');
  console.log(`# analysis-bench ${new Date().toISOString()} — ${cpus()[0].model} × ${cpus().length}, load ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log('| n | build | flood cold ms | flood warm ms | kramersPrediction ms | basinLabels ms | 11 × measure ms | walls passes ms | merges | checksum |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const n of sizes) {
    const all = new Map<string, Sample[]>(builds.map((b) => [b.label, []]));
    for (let r = 0; r < repeats; r++) {
      for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
        const out = spawnSync(process.execPath, [self, '--child', b.dir, String(n)], { encoding: 'utf8', cwd: b.dir });
        if (out.status !== 0) throw new Error(`${b.label} failed: ${out.stderr}`);
        all.get(b.label)!.push(JSON.parse(out.stdout) as Sample);
      }
    }
    for (const b of builds) {
      const xs = all.get(b.label)!;
      const med = (k: keyof Sample): string => {
        const v = xs.map((x) => x[k]).sort((p, q) => p - q);
        return v[v.length >> 1].toFixed(1);
      };
      console.log(`| ${n}² | ${b.label} | ${med('flood')} | ${med('floodWarm')} | ${med('kramers')} | ${med('basins')} | ${med('measure')} | ${med('walls')} | ${xs[0].merges} | ${xs[0].checksum} |`);
    }
  }
  console.log(`load after: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
}

main();
