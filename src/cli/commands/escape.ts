import { Command, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from '../../scenario/load.js';
import { setUp } from '../../run/run.js';
import { initialDensityFor } from '../../run/setup.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { writeFieldBundle } from '../../io/npy.js';
import { reportJson } from '../../report/write.js';
import { packageVersion } from '../../paths.js';
import { checkOutputLocation } from '../../io/out-path.js';
import { setOption } from './shared.js';
import { maxMemoryOption } from '../../resources/options.js';
import type { MemoryLimit } from '../../resources/memory.js';
import { computeEscape, type EscapeInput, type SetInfo, type SolveInfo } from '../../escape/compute.js';
import { escapeInput, parseTolerance, SET_SYNTAX_HELP } from '../../escape/cli-common.js';
import { exitRate } from '../../estimators/exit-prediction.js';

export interface EscapeCliOptions {
  set: string[];
  maxMemory?: MemoryLimit;
  from: string;
  to?: string;
  tol: number;
  json?: boolean;
  out?: string;
  figure: boolean;
}

/** The quasi-stationary part (src/estimators/exit-prediction.ts), or why it is missing. */
export interface QsdReport {
  /** Exit rate λ: the principal Dirichlet eigenvalue of the generator on the inside. */
  rate: number;
  /** 1/λ: the mean exit time from the quasi-stationary distribution. */
  meanExitFromQsd: number;
  prediction: { law: 'kramers' | 'mori' | null; rate: number | null; ratio: number | null; note?: string };
}

/** report.json of `fpsolve escape`. */
export interface EscapeFile {
  fpsolve: string;
  createdAt: string;
  command: 'escape';
  scenarioFile: string;
  scenario: string;
  cells: number[];
  regime: string;
  from: SetInfo;
  /** The absorbing set: --to, every other well (no --to), or (basinExit, `--to basin`) every cell outside the descent basin of --from. */
  to: SetInfo & { basinExit: boolean };
  meanExitTime: {
    /** E T from the scenario's initial density. */
    fromInitial: number;
    /** T averaged over the --from set with weights π. */
    fromSet: number;
    /** T at the --from set's point. */
    atPoint: number;
  };
  solve: SolveInfo;
  /** null when unavailable; qsdNote says why. */
  qsd: QsdReport | null;
  qsdNote?: string;
  /** Undecided zero components outside the target: T may be infinite (docs/escape.md "Collapsing zeros"). */
  collapseNote?: string;
  field: string | null;
  wallSeconds: number;
}

export function escapeCommand(): Command {
  return new Command('escape')
    .description('mean first-passage time T(θ) from a well to any other (or to a target set, or out of its basin), from ρ₀ and from the well, with the exit rate of the quasi-stationary distribution and the Kramers/Mori prediction')
    .argument('<scenario>', 'scenario file (.yaml, .yml or .json)')
    .addOption(setOption())
    .addOption(maxMemoryOption())
    .addOption(new Option('--from <set>', 'the set (basin) the process starts in').makeOptionMandatory())
    .option('--to <set>', "the target set, or 'basin' for the time to leave the descent basin of --from (default: any other well: every other zero component, or minimum when f has none)")
    .option('--tol <r>', 'largest generator-row residual relative to max|u|, per cell scaled by its rate out (1e-14 to 1e-2; docs/escape.md "Solver")', parseTolerance, 1e-10)
    .option('--json', 'print report.json to stdout instead of the text summary')
    .option('-o, --out <dir>', 'write report.json, mfpt.npy (+ axes and manifest) and mfpt.svg into <dir>')
    .option('--no-figure', 'with --out: skip the figure')
    .addHelpText(
      'after',
      `
${SET_SYNTAX_HELP}

Examples:
  $ fpsolve escape scenarios/double-well-2d.yaml --from min1
  $ fpsolve escape scenarios/double-well-2d.yaml --from min2 --to 'min1:radius=0.2' -o out/
  $ fpsolve escape scenarios/double-well-2d.yaml --from min1 --to basin
  $ fpsolve escape scenarios/pearson-1d.yaml --from 'x=0:radius=0.1' --to 'x=2:radius=0.1' --json | jq .meanExitTime

What is solved: L T = −1 off the target, T = 0 on it, L the generator of the SDE (backward operator)
discretized by the run's scheme (docs/escape.md). Exit codes: 0 ok, 2 bad input, 3 numerical fault.`,
    )
    .action(async (file: string, o: EscapeCliOptions) => {
      const started = performance.now();
      if (o.out !== undefined) checkOutputLocation('--out', o.out, 'directory');
      const loaded = loadScenario(file, o.set);
      // One linear solve and the QSD's eigen-solve, no spectral gap: the run's estimate with the gap's
      // 160 arrays refused 256³ (25 GiB); measured peak at 96³: 58 arrays + Node.
      const setup = setUp(loaded, { memoryLimit: o.maxMemory, memoryEstimate: { gap: false, extra: { arrays: 24, what: 'exit-rate eigen-solve' } } });
      const input: EscapeInput = { ...escapeInput(setup, initialDensityFor(loaded, setup.grid)), solver: { tol: o.tol } };
      const res = computeEscape(input, o.from, o.to);
      let qsd: QsdReport | null = null;
      let qsdNote: string | undefined;
      try {
        // The symbolic landscape lets it refine the minimum and saddle for the Kramers/Mori prediction; the operator is reused.
        const e = exitRate(setup.problem, res.inside, { expr: setup.landscape.compiled, op: setup.op });
        qsd = { rate: e.rate, meanExitFromQsd: e.meanExitFromQsd, prediction: e.prediction };
      } catch (err) {
        // The mean first-passage time stands on its own; the eigen-solve's failure is reported beside it.
        qsdNote = err instanceof Error ? err.message : String(err);
      }
      let field: string | null = null;
      if (o.out !== undefined) {
        mkdirSync(o.out, { recursive: true });
        const axes = setup.grid.n.map((_, k) => setup.grid.centres(k));
        writeFieldBundle(o.out, 'mfpt', res.T, setup.grid.n, axes, { quantity: 'mean first-passage time', from: res.from.label, to: res.to.label });
        field = 'mfpt.npy';
        if (o.figure) {
          const { fieldFigure } = await import('../../escape/figure.js');
          const fig = await fieldFigure({ name: 'mfpt', title: `mean first-passage time to ${res.to.label}`, label: 'T', grid: setup.grid, values: res.T, logScale: true, through: res.to.basinExit ? res.from.point : res.to.point });
          writeFileSync(join(o.out, 'mfpt.svg'), fig.svg);
        }
      }
      const report: EscapeFile = {
        fpsolve: packageVersion(),
        createdAt: new Date().toISOString(),
        command: 'escape',
        scenarioFile: loaded.file,
        scenario: setup.scenario.name,
        cells: setup.grid.n.slice(),
        regime: setup.regime.regime,
        from: res.from,
        to: res.to,
        meanExitTime: { fromInitial: res.meanFromRho0, fromSet: res.meanFromSet, atPoint: res.atPoint },
        solve: res.solve,
        qsd,
        ...(qsdNote !== undefined ? { qsdNote } : {}),
        ...(res.collapseNote !== undefined ? { collapseNote: res.collapseNote } : {}),
        field,
        wallSeconds: (performance.now() - started) / 1000,
      };
      if (o.out !== undefined) writeFileAtomic(join(o.out, 'report.json'), reportJson(report));
      if (o.json) {
        process.stdout.write(reportJson(report));
        return;
      }
      const p = (v: number): string => v.toPrecision(6);
      const lines = [
        `${report.scenario}: grid ${report.cells.join('×')}, regime ${report.regime}, ${report.wallSeconds.toFixed(2)} s`,
        `from: ${res.from.label} (${res.from.cells} cells); to: ${res.to.label} (${res.to.cells} cells)`,
        `mean first-passage time: from ρ₀ ${p(res.meanFromRho0)}, from ${res.from.label} (π-weighted) ${p(res.meanFromSet)}, at its point ${p(res.atPoint)}  (${res.solve.solver}, ${res.solve.iterations} iterations, residual ${res.solve.residual.toExponential(1)}, ${res.solve.seconds.toFixed(2)} s)`,
        ...(qsd
          ? [
              `exit rate λ (principal Dirichlet eigenvalue) ${p(qsd.rate)}, mean exit time from the QSD 1/λ = ${p(qsd.meanExitFromQsd)}`,
              qsd.prediction.law && qsd.prediction.rate !== null
                ? `${qsd.prediction.law === 'kramers' ? 'Kramers' : 'Mori et al.'} prediction: rate ${p(qsd.prediction.rate)}, ratio λ/prediction ${qsd.prediction.ratio === null ? 'n/a' : p(qsd.prediction.ratio)}`
                : `prediction: none${qsd.prediction.note ? ` (${qsd.prediction.note})` : ''}`,
            ]
          : [`exit rate: not available (${qsdNote ?? 'unknown'})`]),
        ...(res.collapseNote !== undefined ? [`note: ${res.collapseNote}`] : []),
        ...(o.out !== undefined ? [`wrote: ${join(o.out, 'report.json')}`] : []),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
