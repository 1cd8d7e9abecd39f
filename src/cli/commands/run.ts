import { Command, InvalidArgumentError } from 'commander';
import { loadScenario } from '../../scenario/load.js';
import { runScenario } from '../../run/run.js';
import type { PhaseInfo, ProgressInfo, RestartState, RunResult } from '../../run/types.js';
import { CHECKPOINT_DIR, clearCheckpoint, readCheckpoint, runDirOf, scenarioDifferences } from '../../run/restart.js';
import type { LoadedScenario } from '../../scenario/types.js';
import { join } from 'node:path';
import { writeRunOutputs, reportJson } from '../../report/write.js';
import { formatSummary } from '../../report/summary.js';
import { EXIT, InputError } from '../../errors.js';
import { failedRunExitCode } from '../../failure-report.js';
import { checkOutputLocation } from '../../io/out-path.js';
import { RunProgress } from '../../report/progress.js';
import type { Figure } from '../../plot/common.js';
import { setExitCode, setOption } from './shared.js';
import { maxMemoryOption } from '../../resources/options.js';
import type { MemoryLimit } from '../../resources/memory.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../../solvers/backend/select.js';
import { everyReportTime, pickSnapshots } from '../../io/density-zarr.js';
import { isMatrixNoise } from '../../scenario/types.js';
import type { MatrixRunResult } from '../../nonrev/types.js';

export interface RunCliOptions {
  out?: string;
  set: string[];
  json?: boolean;
  quiet?: boolean;
  maxWall?: number;
  /** false with --no-gap. */
  gap?: boolean;
  maxMemory?: MemoryLimit;
  plots?: boolean;
  html?: boolean;
  vti?: boolean;
  /** --zarr: density.zarr; --snapshots: with ρ at every report time (implies --zarr). */
  zarr?: boolean;
  snapshots?: boolean;
  backend?: BackendChoice;
  /** --checkpoints: a restart checkpoint in <out>/checkpoint at every report time. */
  checkpoints?: boolean;
  /** --stop-after <time>: stop at the first report time ≥ it, checkpoint written (implies --checkpoints). */
  stopAfter?: number;
  /** --resume <dir>: continue the run whose checkpoint is in <dir>/checkpoint (outputs go to <dir> unless --out). */
  resume?: string;
  /** --progress: progress output even when stderr is not a terminal. */
  progress?: boolean;
}

export interface RunExecution {
  /** A diffusion-matrix scenario's run is a MatrixRunResult (src/nonrev/, docs/nonreversible.md). */
  result: RunResult | MatrixRunResult;
  /** 0 ok (also "incomplete"), 3 numerical fault, 75 infrastructure failure, 130/143 interrupted. */
  exitCode: number;
}

/**
 * What `fpsolve run` computes for a scenario file, its overrides and options: the report and the
 * exit code, without the outputs (files, figures, stdout), which stay in the command. Shared
 * with `fpsolve worker` so that a sweep point run in a persistent worker is the same run.
 * `signal`'s abort reason, when a number, is the exit code of the interrupted run (130 SIGINT, 143 SIGTERM).
 */
export async function executeRun(
  file: string | undefined,
  o: RunCliOptions,
  ctl: { signal?: AbortSignal; onProgress?: (p: ProgressInfo) => void; onPhase?: (p: PhaseInfo) => void; loaded?: LoadedScenario } = {},
): Promise<RunExecution> {
  const out = outDirOf(o);
  // Before the solve: a user must not wait for the run to learn that --out is /sys or a file.
  if (out !== undefined) checkOutputLocation(o.out !== undefined ? '--out' : '--resume', out, 'directory');
  for (const flag of ['plots', 'html', 'vti', 'zarr', 'snapshots', 'checkpoints'] as const) {
    if (o[flag] && !out) throw new InputError(`--${flag} writes into the output directory: add --out <dir>`);
  }
  if (o.stopAfter !== undefined && !out) throw new InputError('--stop-after writes a checkpoint into the output directory to continue from: add --out <dir>');
  // ctl.loaded: the caller loaded `file` with `o.set` already (a sweep point run in-process, src/parallel/in-process.ts).
  const { loaded, resume } = ctl.loaded !== undefined && o.resume === undefined ? { loaded: ctl.loaded } : scenarioToRun(file, o);
  if (isMatrixNoise(loaded.scenario.noise)) return matrixExecution(await (await import('../../nonrev/cli.js')).executeMatrixRun(loaded, o, ctl), ctl.signal);
  // A fresh run in a directory that holds another run's checkpoint: --resume must not later continue that one over these outputs.
  if (!resume && out !== undefined) clearCheckpoint(join(out, CHECKPOINT_DIR));
  const figuresWanted = Boolean(o.plots || o.html);
  const figureModule = figuresWanted ? await import('../../plot/run-figures.js') : undefined;
  // A resumed run keeps checkpointing: it may be stopped and resumed again.
  const checkpointing = Boolean(o.checkpoints || o.stopAfter !== undefined || resume);
  const result = await runScenario(loaded, {
    signal: ctl.signal,
    maxWallSeconds: o.maxWall,
    gap: o.gap !== false,
    memoryLimit: o.maxMemory,
    backend: o.backend,
    onProgress: ctl.onProgress,
    onPhase: ctl.onPhase,
    ...(checkpointing && out !== undefined ? { checkpointDir: join(out, CHECKPOINT_DIR) } : {}),
    // Any run with --out that stops early (SIGTERM from Slurm, SIGINT, --max-wall) can be resumed.
    ...(out !== undefined ? { stopCheckpointDir: join(out, CHECKPOINT_DIR) } : {}),
    ...(o.stopAfter !== undefined ? { stopAfter: o.stopAfter } : {}),
    ...(resume ? { resume } : {}),
    ...(figureModule && loaded.scenario.domain.cells.length <= 2 ? { snapshots: figureModule.snapshotTimes(loaded.scenario.time.end) } : {}),
    ...(o.snapshots ? { snapshots: [...(figureModule ? figureModule.snapshotTimes(loaded.scenario.time.end) : []), ...everyReportTime(loaded.scenario.time)] } : {}),
  });
  const status = result.report.status;
  const reason: unknown = ctl.signal?.reason;
  const exitCode = status === 'failed' ? failedRunExitCode(result.report.failure) : status === 'interrupted' ? (typeof reason === 'number' ? reason : EXIT.interrupted) : EXIT.ok;
  return { result, exitCode };
}

/**
 * nonrev/cli.ts's isMatrixResult, here so that a plain run does not load the diffusion-matrix
 * solver (#19.4: it, the figures and the HTML report are imported only when used).
 */
function isMatrixResult(r: unknown): r is MatrixRunResult {
  return typeof r === 'object' && r !== null && (r as { kind?: unknown }).kind === 'diffusion-matrix';
}

function matrixExecution(result: MatrixRunResult, signal: AbortSignal | undefined): RunExecution {
  const status = result.report.status;
  const reason: unknown = signal?.reason;
  const exitCode = status === 'failed' ? failedRunExitCode(result.report.failure) : status === 'interrupted' ? (typeof reason === 'number' ? reason : EXIT.interrupted) : EXIT.ok;
  return { result, exitCode };
}

/** Where the outputs go: --out, else the directory a run resumes from. */
export function outDirOf(o: RunCliOptions): string | undefined {
  return o.out ?? (o.resume !== undefined ? runDirOf(o.resume) : undefined);
}

/**
 * The scenario of a run: the file (with --set), or with --resume the one recorded in the
 * checkpoint; when both are given they must agree, else exit 2 naming the fields that differ.
 */
function scenarioToRun(file: string | undefined, o: RunCliOptions): { loaded: LoadedScenario; resume?: RestartState } {
  if (o.resume === undefined) {
    if (file === undefined) throw new InputError('missing the scenario file (or --resume <dir>)');
    return { loaded: loadScenario(file, o.set) };
  }
  const cp = readCheckpoint(o.resume);
  if (file !== undefined) {
    const given = loadScenario(file, o.set);
    const diffs = scenarioDifferences(cp.loaded.scenario, given.scenario);
    if (diffs.length > 0) throw new InputError(`the scenario differs from the one the checkpoint was run with: ${diffs.join('; ')}`, { file: cp.state.file });
  } else if (o.set.length > 0) {
    throw new InputError('--set with --resume needs the scenario file, to check the run is the same: give it before --resume');
  }
  return { loaded: cp.loaded, resume: cp.state };
}

/** How to continue a stopped run, for its stderr line: the checkpoint's time and the command. */
export function resumeHint(result: RunResult, out: string | undefined): string {
  const c = result.checkpoint;
  if (!c || out === undefined) return '';
  if (c.error !== undefined) return `; its checkpoint could not be written (${c.error}), so it cannot be resumed`;
  const from = c.t < result.report.final.t ? `the last report time, t = ${c.t}` : `t = ${c.t}`;
  return `; state at ${from} saved, resume with: fpsolve run --resume ${shellWord(out)}`;
}

/** `s` as one shell word (quoted only when it needs to be), so the printed command can be pasted. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A resume of a run that already reached its end time: nothing to do (exit 0). */
function finishedMessage(o: RunCliOptions): string | undefined {
  if (o.resume === undefined) return undefined;
  const cp = readCheckpoint(o.resume);
  const end = cp.loaded.scenario.time.end;
  return cp.state.t >= end ? `the run in ${o.resume} is finished (t = ${cp.state.t} = time.end); nothing to resume, its outputs are in place` : undefined;
}

export function runCommand(): Command {
  return new Command('run')
    .description('solve the Fokker–Planck equation of a scenario and report convergence to π')
    .argument('[scenario]', 'scenario file (.yaml, .yml or .json); optional with --resume')
    .addOption(setOption())
    .option('-o, --out <dir>', 'write report.json, series.csv, density.npy and pi.npy (+ axes) into <dir>')
    .option('--plots', 'also write SVG figures into <dir>/figures (needs --out)')
    .option('--html', 'also write <dir>/report.html, summary and figures in one offline file; implies --plots (needs --out)')
    .option('--vti', 'also write density.vti and pi.vti (VTK image data, for ParaView) (needs --out)')
    .option('--zarr', 'also write density.zarr (Zarr v2: ρ, π, coordinates and metadata; xarray.open_zarr reads it) (needs --out)')
    .option('--snapshots', 'density.zarr holds ρ at every report time, not only the final one; implies --zarr (needs --out)')
    .option('--json', 'print report.json to stdout instead of the summary')
    .option('-q, --quiet', 'no progress output')
    .option('--no-gap', 'skip the spectral gap and analytic bounds (report.gap and report.bounds are then absent)')
    .option('--max-wall <seconds>', 'stop cleanly after this wall time with a partial report (status "incomplete")', (v) => {
      const x = Number(v);
      if (!(x > 0)) throw new InvalidArgumentError('must be a positive number of seconds');
      return x;
    })
    .option('--checkpoints', 'write a restart checkpoint into <dir>/checkpoint at every report time, against kill -9 (needs --out; a run with --out stopped by a signal or --max-wall writes one anyway; see --resume)')
    .option('--stop-after <time>', 'run to the first report time ≥ <time>, write its checkpoint and stop (status "incomplete"); continue with --resume', (v) => {
      const x = Number(v);
      if (!(x > 0) || !Number.isFinite(x)) throw new InvalidArgumentError('must be a positive simulated time');
      return x;
    })
    .option('--resume <dir>', 'continue the run whose checkpoint is in <dir>/checkpoint to its end time, writing the outputs into <dir> (or --out); same numbers as an uninterrupted run')
    .option('--progress', 'show progress (set-up, stepping, gap) on stderr even when it is not a terminal')
    .addOption(maxMemoryOption())
    .option(
      '--backend <backend>',
      'where time stepping runs: auto (float64 CPU unless the recorded device check, bench/results-gpu.json, shows this GPU winning for such runs), cpu (float64), gpu (gpu.js on WebGPU/WebGL, float32; exit 2 if none), webasm (gpu.js WebAssembly, float32); see docs/gpu.md',
      (v: string): BackendChoice => {
        if (!(BACKEND_CHOICES as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${BACKEND_CHOICES.join(', ')}`);
        return v as BackendChoice;
      },
      'auto',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ fpsolve run scenarios/double-well-1d.yaml --out runs/dw1
  $ fpsolve run scenarios/pearson-1d.yaml --set noise.eta=0.05 --set 'domain.cells=[4000]'
  $ fpsolve run scenarios/ou-2d.yaml --json | jq .rates
  $ fpsolve run scenarios/ou-2d.yaml --out runs/ou --stop-after 2 && fpsolve run --resume runs/ou

Exit codes: 0 ok (also when --max-wall stopped it: status "incomplete"), 2 bad input
(an unusable --out included, found before the solve) or over --max-memory, 3 numerical fault
(report kept, status "failed"), 75 the machine failed the run (a kernel thread lost, out of
memory: report kept, status "failed", failure.kind "infrastructure"; run it again), 74 writing the outputs failed (disk full; the earlier outputs
in --out are kept), 130/143 interrupted by SIGINT/SIGTERM (report kept, status "interrupted").
A run with --out stopped by SIGTERM/SIGINT or --max-wall saves its last report time's state:
continue it with --resume <dir> (a failed run saves none).
--resume of a finished run says so and exits 0; a missing or corrupt checkpoint, or a scenario
that differs from the checkpoint's, is exit 2.`,
    )
    .action(async (file: string | undefined, o: RunCliOptions) => {
      const done = finishedMessage(o);
      if (done !== undefined) {
        process.stderr.write(`fpsolve: ${done}\n`);
        return;
      }
      const controller = new AbortController();
      // The abort reason is the exit code of an interrupted run (see executeRun).
      const onSignal = (sig: NodeJS.Signals): void => controller.abort(sig === 'SIGINT' ? EXIT.interrupted : EXIT.terminated);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const progress = new RunProgress({ quiet: o.quiet, force: o.progress });
      const figuresWanted = Boolean(o.plots || o.html);
      try {
        const { result, exitCode } = await executeRun(file, o, { signal: controller.signal, onProgress: (p) => progress.update(p), onPhase: (p) => progress.phase(p) });
        progress.stop();
        if (isMatrixResult(result)) {
          await (await import('../../nonrev/cli.js')).finishMatrixRun(result, o, outDirOf(o));
          setExitCode(exitCode);
          return;
        }
        let figures: Figure[] = [];
        const figureNotes: string[] = [];
        if (figuresWanted) {
          try {
            const { buildRunFigures, snapshotTimes } = await import('../../plot/run-figures.js');
            figures = await buildRunFigures(result, { snapshots: result.snapshots && pickSnapshots(result.snapshots, snapshotTimes(result.report.scenario.time.end)) });
          } catch (e) {
            // A plotting failure must not cost the run's numbers: write everything else.
            figureNotes.push(`figures not written: ${(e as Error).message}`);
            process.stderr.write(`fpsolve: ${figureNotes[0]}\n`);
          }
        }
        const out = outDirOf(o);
        const written = out !== undefined
          ? await writeRunOutputs(out, result, { vti: o.vti, figures, ...(o.html ? { html: (await import('../../report/html.js')).renderHtmlReport(result.report, figures, figureNotes) } : {}), ...(o.zarr || o.snapshots ? { zarr: { snapshots: Boolean(o.snapshots) } } : {}) })
          : [];
        const wrote = written.length ? `wrote:\n${written.map((p) => `  ${p}`).join('\n')}\n` : '';
        if (o.json) {
          process.stdout.write(reportJson(result.report));
          // stdout is the JSON alone; the paths go to stderr.
          if (!o.quiet) process.stderr.write(wrote);
        } else {
          process.stdout.write(formatSummary(result.report) + '\n' + wrote);
        }
        const status = result.report.status;
        // stdout may be a pipe into jq or a file: the reason a run stopped early also goes to stderr, one line.
        if (status !== 'ok' && result.report.error) process.stderr.write(`fpsolve: ${status}: ${result.report.error}${resumeHint(result, out)}\n`);
        setExitCode(exitCode);
      } finally {
        progress.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
