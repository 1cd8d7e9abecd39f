/**
 * The device check of issue #22.2, driven by bench/gpu-device.sh: on a machine with a GPU, the
 * reference problem at 512², 1024², 2048² and a 3-D one at 128³, each to t = 1 through the CLI
 * (the contract: `fpsolve run … --backend gpu`) against the float64 CPU path (`--backend cpu`) in the
 * same run, compared at matched accuracy; writes bench/results-gpu.json (the record `--backend auto`
 * reads, solvers/backend/gpu-record.ts) and a generated section of bench/results-gpu.md.
 *
 * Before anything it confirms the adapter is a hardware GPU with select.ts probeGpu (Mesa
 * llvmpipe/lavapipe and SwiftShader are refused): exit 3 with one line if not. --software runs the
 * same steps on tiny grids where no GPU is (CI_SOFT_GPU=1 Mesa renderer if Dawn finds it, else the
 * gpu.js webasm stand-in), and marks the record hardware: false, which auto never counts.
 *
 * Time: one budget (default 450 s of runs, so the whole check stays under 8 minutes); each run is
 * capped with --max-wall, and a grid whose predicted cost (the previous grid's walls scaled by the
 * cell count: multigrid keeps iterations flat) exceeds what is left is skipped and the record says so.
 *
 *   node dist/test/bench/gpu-device.js [--software] [--sizes 512,1024,2048] [--sizes3d 128]
 *     [--integrator exponential] [--budget 450] [--cap 240] [--json bench/results-gpu.json]
 *     [--md bench/results-gpu.md] [--work DIR]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, unlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { readNpy } from '../../src/io/npy.js';
import { packageRoot } from '../../src/paths.js';
import { probeGpu, type GpuProbe } from '../../solvers/backend/select.js';
import { GPU_RECORD_FORMAT, GPU_RECORD_VERSION, type GpuRecordCase } from '../../solvers/backend/gpu-record.js';

/** Matched accuracy (issue #22.1): distances and rates to 1e-4 relative; the densities' L1 distance likewise. */
export const MATCH = { distanceRel: 1e-4, rateRel: 1e-4, densityL1: 1e-4 };
const DISTANCES = ['l1', 'kl', 'chi2', 'meanLoss'] as const;
const RATES = ['chi', 'kl', 'meanLoss'] as const;
/** Margin on predictions: iteration counts are flat only roughly, and 3-D stencils cost more per cell. */
const PREDICT_MARGIN = 1.3;
const PREDICT_3D = 1.5;

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const value = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const root = packageRoot();
const software = flag('--software');
const sizes2 = value('--sizes', software ? '32,48' : '512,1024,2048').split(',').filter(Boolean).map(Number);
const sizes3 = value('--sizes3d', software ? '12' : '128').split(',').filter(Boolean).map(Number);
const integrator = value('--integrator', 'exponential');
const budgetS = Number(value('--budget', software ? '300' : '450'));
const capS = Number(value('--cap', software ? '120' : '240'));
const jsonOut = value('--json', join(root, 'bench', software ? 'results-gpu-software.json' : 'results-gpu.json'));
const mdOut = value('--md', join(root, 'bench', 'results-gpu.md'));
const work = value('--work', mkdtempSync(join(tmpdir(), 'fpsolve-gpu-device-')));
/** One line on stderr and an exit code: the check is run by hand on a borrowed machine, a stack trace helps nobody. */
const die = (code: number, msg: string): never => {
  process.stderr.write(`gpu-device: ${msg}\n`);
  process.exit(code);
};
for (const n of [...sizes2, ...sizes3]) {
  if (!Number.isInteger(n) || n < 4) die(2, `--sizes/--sizes3d: grid sizes must be integers ≥ 4 (got ${n})`);
}
// The results are written after minutes of runs: find out now, not then, that they cannot be
// (a read-only checkout, a full disk, a path through a file). Probed with a real atomic write.
for (const out of [jsonOut, mdOut]) {
  const probeFile = join(dirname(out), `.gpu-device-probe-${process.pid}`);
  try {
    writeFileAtomic(probeFile, 'probe\n');
    unlinkSync(probeFile);
  } catch (e) {
    die(74, `cannot write the results ${out}: ${(e as Error).message.replace(`${probeFile}: `, '').replace(/\s+/g, ' ')}; nothing was run`);
  }
}

interface RunOutcome {
  backend: string;
  exit: number | null;
  status: string;
  wallS: number;
  report?: Report;
  dir: string;
  stderrTail: string;
}
interface SeriesPoint { t: number; l1: number; kl: number; chi2: number; meanLoss: number }
interface Report {
  status: string;
  backend: string;
  device: string;
  precision: string;
  backendReason?: string;
  wallSeconds: number;
  grid: { h: number[]; size: number };
  integrator: Record<string, unknown> & { name: string; linearSolver: string | null; linearSolves: number; linearIterations: number; steps: number };
  series: SeriesPoint[];
  rates: Record<string, { value: number } | null>;
}

/** One CLI run to t = 1; the CLI is the contract, so its exit code and report.json are what count. */
function runCli(label: string, scenario: string, sets: string[], backend: string, cap: number, env: NodeJS.ProcessEnv): RunOutcome {
  const dir = join(work, label);
  mkdirSync(dir, { recursive: true });
  const args = [join(root, 'bin', 'fpsolve.js'), 'run', scenario, '-q', '--no-gap', '--backend', backend, '--max-wall', String(Math.max(1, Math.floor(cap))), '-o', dir];
  for (const s of sets) args.push('--set', s);
  const t0 = performance.now();
  // --max-wall stops the run cleanly; the kill is for a run that never reaches its next report time.
  const r = spawnSync(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: (cap + 60) * 1000, killSignal: 'SIGKILL', maxBuffer: 64 * 2 ** 20 });
  const wallS = (performance.now() - t0) / 1000;
  const file = join(dir, 'report.json');
  const report = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Report) : undefined;
  const stderrTail = (r.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
  const status = r.error ? `killed after ${wallS.toFixed(0)} s (${r.error.message})` : (report?.status ?? `exit ${r.status}, no report`);
  process.stderr.write(`gpu-device: ${label}: --backend ${backend}: ${status}, ${wallS.toFixed(1)} s${report ? `, ${report.integrator.linearSolver ?? 'no linear solver'}: ${report.integrator.linearSolves} solves, ${report.integrator.linearIterations} iterations` : ''}${r.status ? `; ${stderrTail}` : ''}\n`);
  return { backend, exit: r.status, status, wallS, report, dir, stderrTail };
}

const rel = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-300));

interface Comparison {
  densityL1: number;
  maxDistanceRel: number;
  worstDistance: string;
  maxRateRel: number | null;
  worstRate: string;
  rateNotes: string[];
  matched: boolean;
}

/** The device run against the CPU run: final densities in L1, distances at every report time, fitted rates. */
function compare(cpu: RunOutcome, dev: RunOutcome): Comparison {
  const a = readNpy(join(cpu.dir, 'density.npy')).data;
  const b = readNpy(join(dev.dir, 'density.npy')).data;
  if (a.length !== b.length) throw new Error(`gpu-device: densities differ in size (${a.length} vs ${b.length})`);
  const vol = cpu.report!.grid.h.reduce((p, h) => p * h, 1);
  let l1 = 0;
  for (let i = 0; i < a.length; i++) l1 += Math.abs(a[i] - b[i]);
  l1 *= vol;
  let maxDistanceRel = 0;
  let worstDistance = '';
  const sc = cpu.report!.series;
  const sd = dev.report!.series;
  const n = Math.min(sc.length, sd.length);
  for (let i = 0; i < n; i++) {
    for (const k of DISTANCES) {
      const r = rel(sd[i][k], sc[i][k]);
      if (r > maxDistanceRel) {
        maxDistanceRel = r;
        worstDistance = `${k} at t = ${+sc[i].t.toPrecision(6)}`;
      }
    }
  }
  let maxRateRel: number | null = null;
  let worstRate = '';
  const rateNotes: string[] = [];
  for (const k of RATES) {
    const rc = cpu.report!.rates[k];
    const rd = dev.report!.rates[k];
    if (!rc && !rd) continue;
    if (!rc || !rd) {
      rateNotes.push(`${k} rate fitted on the ${rc ? 'CPU' : 'device'} only`);
      continue;
    }
    const r = rel(rd.value, rc.value);
    if (maxRateRel === null || r > maxRateRel) {
      maxRateRel = r;
      worstRate = k;
    }
  }
  const matched = sc.length === sd.length && l1 <= MATCH.densityL1 && maxDistanceRel <= MATCH.distanceRel && (maxRateRel === null || maxRateRel <= MATCH.rateRel) && rateNotes.length === 0;
  return { densityL1: l1, maxDistanceRel, worstDistance, maxRateRel, worstRate, rateNotes, matched };
}

interface CaseRecord extends GpuRecordCase {
  scenario: string;
  sets: string[];
  cpu?: RunSummary;
  device?: RunSummary;
  comparison?: Comparison;
}
interface RunSummary {
  status: string;
  wallS: number;
  inProcessS: number | null;
  backend: string | null;
  device: string | null;
  integrator: Report['integrator'] | null;
  iterationsPerSolve: number | null;
}
const summary = (o: RunOutcome): RunSummary => ({
  status: o.status,
  wallS: o.wallS,
  inProcessS: o.report?.wallSeconds ?? null,
  backend: o.report?.backend ?? null,
  device: o.report?.device ?? null,
  integrator: o.report?.integrator ?? null,
  iterationsPerSolve: o.report && o.report.integrator.linearSolves > 0 ? o.report.integrator.linearIterations / o.report.integrator.linearSolves : null,
});

// 1. The adapter: a hardware GPU, or (--software) whatever stands in, said plainly.
const started = performance.now();
const load0 = loadavg()[0];
let probe: GpuProbe;
try {
  probe = await probeGpu();
} catch (e) {
  probe = { missing: [`the probe threw: ${(e as Error).message}`] };
}
let deviceBackend: 'gpu' | 'webasm';
let deviceEnv: NodeJS.ProcessEnv = {};
let deviceName: string;
if (!software) {
  if (!probe.mode || probe.software) {
    process.stderr.write(`gpu-device: no hardware GPU is usable, so no device figures: ${probe.mode ? `${probe.device} is a software renderer` : probe.missing.join('; ')}\n`);
    process.exit(3);
  }
  deviceBackend = 'gpu';
  deviceName = probe.device!;
} else if (probe.mode) {
  // CI_SOFT_GPU is set by the caller when it wants Mesa; then probeGpu accepted the software adapter.
  deviceBackend = 'gpu';
  deviceEnv = { CI_SOFT_GPU: process.env.CI_SOFT_GPU ?? '1' };
  deviceName = `${probe.device}${probe.software ? ' (software renderer)' : ''}`;
} else {
  deviceBackend = 'webasm';
  deviceName = 'gpu.js webasm (WebAssembly f32 on the CPU, the GPU kernels\' numerics)';
  process.stderr.write(`gpu-device: --software: no WebGPU adapter (${probe.missing.join('; ')}); the device side runs --backend webasm\n`);
}
process.stderr.write(`gpu-device: device side: --backend ${deviceBackend} on ${deviceName}; budget ${budgetS} s, cap ${capS} s a run; work in ${work}\n`);

// 2. The grids, 2-D first (the issue's 1024² target), then 3-D.
const cases: CaseRecord[] = [
  ...sizes2.map((n) => ({ n, dim: 2, scenario: join(root, 'bench', 'reference-2d.yaml'), sets: [`domain.cells=[${n},${n}]`] })),
  ...sizes3.map((n) => ({ n, dim: 3, scenario: join(root, 'scenarios', 'quadratic-floor-3d.yaml'), sets: [`domain.cells=[${n},${n},${n}]`, 'time.end=1'] })),
].map((c) => ({
  label: `${c.n}${c.dim === 2 ? '²' : '³'}`,
  dim: c.dim,
  cells: Array<number>(c.dim).fill(c.n),
  size: c.n ** c.dim,
  integrator,
  status: 'skipped' as const,
  cpuWallS: null,
  deviceWallS: null,
  speedup: null,
  matched: false,
  win: false,
  scenario: c.scenario.slice(root.length + 1),
  sets: [...c.sets, `time.integrator=${integrator}`],
}));

/** Seconds per cell of the last finished run on each side, for predictions. */
const perCell = { cpu: 0, device: 0 };
const elapsed = (): number => (performance.now() - started) / 1000;
for (const c of cases) {
  const left = budgetS - elapsed();
  const scale = c.size * PREDICT_MARGIN * (c.dim === 3 ? PREDICT_3D : 1);
  const predicted = perCell.cpu > 0 ? (perCell.cpu + perCell.device) * scale : 0;
  if (left < 5 || predicted > left) {
    c.skipped = predicted > 0 ? `skipped: predicted ${predicted.toFixed(0)} s (CPU + device, scaled from the last grid by cells) > ${left.toFixed(0)} s left of the ${budgetS} s budget` : `skipped: ${left.toFixed(0)} s left of the ${budgetS} s budget`;
    process.stderr.write(`gpu-device: ${c.label}: ${c.skipped}\n`);
    continue;
  }
  const cap = Math.min(capS, left);
  const cpu = runCli(`${c.label}-cpu`, c.scenario, c.sets, 'cpu', cap, {});
  c.cpu = summary(cpu);
  if (cpu.report?.status !== 'ok') {
    c.status = 'failed';
    c.skipped = `the float64 CPU run did not finish (${cpu.status}${cpu.stderrTail ? `: ${cpu.stderrTail}` : ''}); no device run to compare`;
    continue;
  }
  c.cpuWallS = cpu.wallS;
  perCell.cpu = cpu.wallS / c.size / (c.dim === 3 ? PREDICT_3D : 1);
  const dev = runCli(`${c.label}-${deviceBackend}`, c.scenario, c.sets, deviceBackend, Math.min(capS, budgetS - elapsed()), deviceEnv);
  c.device = summary(dev);
  perCell.device = dev.wallS / c.size / (c.dim === 3 ? PREDICT_3D : 1);
  if (dev.report?.status !== 'ok') {
    c.status = 'failed';
    c.skipped = `the device run did not finish (${dev.status}${dev.stderrTail ? `: ${dev.stderrTail}` : ''})`;
    continue;
  }
  c.status = 'ran';
  c.deviceWallS = dev.wallS;
  c.speedup = cpu.wallS / dev.wallS;
  c.comparison = compare(cpu, dev);
  c.matched = c.comparison.matched;
  c.win = c.matched && c.speedup > 1;
}
const load1 = loadavg()[0];

// 3. The record (what auto reads) and the section of results-gpu.md.
const hardware = !software && Boolean(probe.mode) && !probe.software;
const date = new Date().toISOString();
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}, load average ${load0.toFixed(1)} → ${load1.toFixed(1)}`;
const record = {
  format: GPU_RECORD_FORMAT,
  version: GPU_RECORD_VERSION,
  date,
  hardware,
  device: deviceName,
  deviceBackend,
  machine,
  command: `bench/gpu-device.sh ${argv.join(' ')}`.trim(),
  thresholds: MATCH,
  probeMissing: probe.missing,
  totalSeconds: elapsed(),
  cases,
};

const shown = (p: string): string => (p.startsWith(root + '/') ? p.slice(root.length + 1) : p);
const f = (x: number | null | undefined, d = 1): string => (x === null || x === undefined ? '–' : x.toFixed(d));
const e = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : x.toExponential(1));
const its = (s: RunSummary | undefined): string => {
  if (!s?.integrator) return '–';
  // Outer float64 refinement steps of the device solves, where the report has them (solvers/backend/refine.ts).
  const refinements = s.integrator.linearRefinements;
  return `${s.integrator.linearSolves} / ${s.integrator.linearIterations} (${f(s.iterationsPerSolve)})${typeof refinements === 'number' ? `, ${refinements} refinements` : ''}`;
};
const head = hardware
  ? [`**Hardware GPU figures: ${deviceName}**, measured ${date} by \`${record.command}\`; host ${machine}.`]
  : [
      '**No hardware GPU figure exists.** No device with a GPU has run this check yet (none was lent to the sessions that wrote it).',
      `The rows below are a correctness run of the same script on ${deviceName}${software ? ', with tiny grids (--software)' : ''}, ${date}, host ${machine}: they show that the script, the comparison and the record work, not GPU speed; their record is ${shown(jsonOut)}, which \`--backend auto\` ignores (hardware: false).`,
      'To produce the real figures, run `bench/gpu-device.sh` on a machine with a GPU (docs/gpu.md, "Running the device check"); it writes bench/results-gpu.json, which auto reads, and replaces this section.',
    ];
const section = [
  '<!-- gpu-device:begin (generated by bench/gpu-device.sh; edits inside are overwritten) -->',
  '## Device check (issue #22): the GPU against float64 on the CPU, to t = 1',
  '',
  ...head,
  '',
  `Problems: bench/reference-2d.yaml at N² and scenarios/quadratic-floor-3d.yaml at N³ to t = 1, time.integrator ${integrator}, --no-gap; each a whole \`fpsolve run\` process timed from spawn to exit, the CPU run (\`--backend cpu\`) then the device run (\`--backend ${deviceBackend}\`). Matched accuracy: final densities within L1 ${MATCH.densityL1}, every report time's distances (L1, KL, χ², E f) within ${MATCH.distanceRel} relative, fitted rates within ${MATCH.rateRel}. Solves / CG iterations (per solve) from report.json, with report.integrator.linearSolver naming the preconditioner.`,
  '',
  '| grid | CPU s | device s | speed-up | density L1 | max distance rel. | max rate rel. | matched | CPU solves / its | device solves / its | device preconditioner | status |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...cases.map((c) => `| ${c.label} | ${f(c.cpu?.wallS)} | ${f(c.device?.wallS)} | ${c.speedup === null ? '–' : `${c.speedup.toFixed(2)}×`} | ${e(c.comparison?.densityL1)} | ${e(c.comparison?.maxDistanceRel)}${c.comparison ? ` (${c.comparison.worstDistance})` : ''} | ${e(c.comparison?.maxRateRel)}${c.comparison?.rateNotes.length ? ` (${c.comparison.rateNotes.join('; ')})` : ''} | ${c.comparison ? (c.matched ? 'yes' : 'no') : '–'} | ${its(c.cpu)} | ${its(c.device)} | ${c.device?.integrator?.linearSolver ?? '–'} | ${c.status}${c.skipped ? `: ${c.skipped.replace(/\|/g, '/')}` : ''} |`),
  '',
  `Total ${elapsed().toFixed(0)} s of the ${budgetS} s budget. Wins recorded for auto: ${hardware ? cases.filter((c) => c.win).map((c) => c.label).join(', ') || 'none' : 'none (not hardware)'}.`,
  '<!-- gpu-device:end -->',
];
const readPrev = (): string => {
  try {
    return existsSync(mdOut) ? readFileSync(mdOut, 'utf8') : '# GPU benchmarks\n';
  } catch (e) {
    return die(74, `the results were not written: cannot read ${mdOut} to replace its section (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
};
const prev = readPrev();
const begin = prev.indexOf('<!-- gpu-device:begin');
const end = prev.indexOf('<!-- gpu-device:end -->');
let md: string;
if (begin >= 0 && end > begin) {
  md = prev.slice(0, begin) + section.join('\n') + prev.slice(end + '<!-- gpu-device:end -->'.length);
} else {
  // First time: right under the title, so the file opens with what exists and what does not.
  const nl = prev.startsWith('# ') ? prev.indexOf('\n') + 1 : 0;
  md = prev.slice(0, nl) + '\n' + section.join('\n') + '\n\n' + prev.slice(nl).replace(/^\n+/, '');
}
const hardwareOnFile = (): boolean => {
  try {
    return (JSON.parse(readFileSync(join(root, 'bench', 'results-gpu.json'), 'utf8')) as { hardware?: unknown }).hardware === true;
  } catch {
    return false;
  }
};
// A software run must not replace hardware figures in the results file.
// The record and the section go together: if the second write fails, the record is put back as it
// was, so auto never reads a record whose figures results-gpu.md does not show.
const keepMd = !hardware && hardwareOnFile() && mdOut === join(root, 'bench', 'results-gpu.md');
const jsonBefore = existsSync(jsonOut) ? readFileSync(jsonOut) : undefined;
let jsonWritten = false;
try {
  writeFileAtomic(jsonOut, JSON.stringify(record, null, 2) + '\n');
  jsonWritten = true;
  if (keepMd) process.stderr.write(`gpu-device: ${mdOut} holds hardware figures (bench/results-gpu.json): left as it is\n`);
  else writeFileAtomic(mdOut, md);
} catch (e) {
  let undo = '';
  if (jsonWritten) {
    try {
      if (jsonBefore) writeFileAtomic(jsonOut, jsonBefore);
      else unlinkSync(jsonOut);
    } catch {
      undo = `; and ${jsonOut} could not be put back: delete it`;
    }
  }
  die(74, `the results were not written: ${(e as Error).message.replace(/\s+/g, ' ')}${undo}`);
}
process.stderr.write(`gpu-device: wrote ${jsonOut} and the section of ${mdOut} (${elapsed().toFixed(0)} s)\n`);
// A process holding navigator.gpu (Dawn) does not exit on its own (docs/gpujs.md §3).
process.exit(0);
