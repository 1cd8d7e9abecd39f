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
import { computeCommittor, type EscapeInput, type SetInfo, type SolveInfo } from '../../escape/compute.js';
import { escapeInput, parseTolerance, SET_SYNTAX_HELP } from '../../escape/cli-common.js';

export interface CommittorCliOptions {
  set: string[];
  maxMemory?: MemoryLimit;
  from?: string;
  to: string;
  tol: number;
  json?: boolean;
  out?: string;
  figure: boolean;
}

/** report.json of `fpsolve committor`. */
export interface CommittorFile {
  fpsolve: string;
  createdAt: string;
  command: 'committor';
  scenarioFile: string;
  scenario: string;
  cells: number[];
  regime: string;
  /** The absorbing set the targets compete with (null with `--to each` and no --from). */
  from: SetInfo | null;
  targets: { set: SetInfo; probability: number; solve: SolveInfo; field: string | null }[];
  /** Probability that the process from ρ₀ reaches --from before any target. */
  fromProbability: number | null;
  /** Names the set specs may use on this grid. */
  namedSets: string[];
  wallSeconds: number;
}

export function committorCommand(): Command {
  return new Command('committor')
    .description('forward committor q(θ) = P(reach --to before --from | start θ), and ∫ q ρ₀: the probability that the process from the initial density ends in each target')
    .argument('<scenario>', 'scenario file (.yaml, .yml or .json)')
    .addOption(setOption())
    .addOption(maxMemoryOption())
    .addOption(new Option('--to <set>', "target set, or 'each' for every zero component (every minimum when f has no zero)").makeOptionMandatory())
    .option('--from <set>', "the set the targets compete with (required unless --to each)")
    .option('--tol <r>', 'largest generator-row residual relative to max|u|, per cell scaled by its rate out (1e-14 to 1e-2; docs/escape.md "Solver")', parseTolerance, 1e-10)
    .option('--json', 'print report.json to stdout instead of the text summary')
    .option('-o, --out <dir>', 'write report.json, committor.npy (+ axes and manifest) and committor.svg into <dir>')
    .option('--no-figure', 'with --out: skip the figure')
    .addHelpText(
      'after',
      `
${SET_SYNTAX_HELP}

Examples:
  $ fpsolve committor scenarios/double-well-2d.yaml --from min1 --to min2
  $ fpsolve committor scenarios/double-well-2d.yaml --from 'x=-1,y=0:radius=0.2' --to 'x=1,y=0:radius=0.2' -o out/
  $ fpsolve committor scenarios/collapse.yaml --to each --json | jq '.targets[].probability'

What is solved: L q = 0 off the sets, q = 1 on the target, 0 on --from (and on the other targets
with --to each), L the generator of the SDE (backward operator) discretized by the run's scheme;
2-D/3-D by multigrid-preconditioned CG on the symmetric form, 1-D by a direct solve (docs/escape.md).
Exit codes: 0 ok, 2 bad input (sets empty, overlapping, outside the box or unreachable), 3 numerical fault.`,
    )
    .action(async (file: string, o: CommittorCliOptions) => {
      const started = performance.now();
      if (o.out !== undefined) checkOutputLocation('--out', o.out, 'directory');
      const loaded = loadScenario(file, o.set);
      // One linear solve, no spectral gap: the run's estimate with the gap's 160 arrays refused 256³ (25 GiB for ~3 GiB of work).
      const setup = setUp(loaded, { memoryLimit: o.maxMemory, memoryEstimate: { gap: false } });
      const input: EscapeInput = { ...escapeInput(setup, initialDensityFor(loaded, setup.grid)), solver: { tol: o.tol } };
      const res = computeCommittor(input, o.from, o.to);
      const fields: (string | null)[] = res.targets.map(() => null);
      if (o.out !== undefined) {
        mkdirSync(o.out, { recursive: true });
        const axes = setup.grid.n.map((_, k) => setup.grid.centres(k));
        for (let k = 0; k < res.targets.length; k++) {
          const t = res.targets[k];
          const base = res.targets.length === 1 ? 'committor' : `committor-${k + 1}`;
          writeFieldBundle(o.out, base, t.q, setup.grid.n, axes, { quantity: 'committor', target: t.set.label, from: res.from?.label ?? null, probability: t.probability });
          fields[k] = `${base}.npy`;
          if (o.figure) {
            const { fieldFigure } = await import('../../escape/figure.js');
            const fig = await fieldFigure({ name: base, title: `committor: P(reach ${t.set.label} first)`, label: 'q', grid: setup.grid, values: t.q, through: t.set.point });
            writeFileSync(join(o.out, `${base}.svg`), fig.svg);
          }
        }
      }
      const report: CommittorFile = {
        fpsolve: packageVersion(),
        createdAt: new Date().toISOString(),
        command: 'committor',
        scenarioFile: loaded.file,
        scenario: setup.scenario.name,
        cells: setup.grid.n.slice(),
        regime: setup.regime.regime,
        from: res.from,
        targets: res.targets.map((t, k) => ({ set: t.set, probability: t.probability, solve: t.solve, field: fields[k] })),
        fromProbability: res.from ? res.fromProbability : null,
        namedSets: res.named,
        wallSeconds: (performance.now() - started) / 1000,
      };
      if (o.out !== undefined) writeFileAtomic(join(o.out, 'report.json'), reportJson(report));
      if (o.json) {
        process.stdout.write(reportJson(report));
        return;
      }
      const lines = [
        `${report.scenario}: grid ${report.cells.join('×')}, regime ${report.regime}, ${report.wallSeconds.toFixed(2)} s`,
        ...(res.from ? [`from: ${res.from.label} (${res.from.cells} cells)`] : []),
        ...res.targets.map(
          (t) =>
            `P(reach ${t.set.label} first | start from ρ₀) = ∫ q ρ₀ = ${t.probability.toPrecision(6)}  (${t.set.cells} cells; ${t.solve.solver}, ${t.solve.iterations} iterations, residual ${t.solve.residual.toExponential(1)}, ${t.solve.seconds.toFixed(2)} s)`,
        ),
        ...(res.from ? [`P(reach ${res.from.label} first | start from ρ₀) = ${res.fromProbability.toPrecision(6)}`] : []),
        ...(o.out !== undefined ? [`wrote: ${join(o.out, 'report.json')}`] : []),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
