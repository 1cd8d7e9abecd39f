import { Command, InvalidArgumentError } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from '../../scenario/load.js';
import { setUp } from '../../run/run.js';
import { computeBounds, computeGapAsync } from '../../estimators/index.js';
import { formatBoundsLines, formatGapLines } from '../../estimators/format.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { reportJson } from '../../report/write.js';
import { packageVersion } from '../../paths.js';
import type { BoundsReport, GapReport } from '../../report/types.js';
import type { RegimeName } from '../../diagnostics/regime.js';
import { setOption } from './shared.js';
import { checkOutputLocation } from '../../io/out-path.js';
import { EXIT, InputError } from '../../errors.js';

export interface GapCliOptions {
  set: string[];
  modes: number;
  refine?: boolean;
  json?: boolean;
  out?: string;
}

/** gap.json of `fpsolve gap`. */
export interface GapFile {
  fpsolve: string;
  createdAt: string;
  scenarioFile: string;
  scenario: string;
  cells: number[];
  regime: RegimeName;
  regimeReason: string;
  wallSeconds: number;
  gap: GapReport;
  bounds: BoundsReport;
}

const MAX_MODES = 50;

function parseModes(v: string): number {
  const k = Number(v);
  if (!Number.isInteger(k) || k < 1 || k > MAX_MODES) throw new InvalidArgumentError(`--modes must be an integer from 1 to ${MAX_MODES} (got '${v}')`);
  return k;
}

export function gapCommand(): Command {
  return new Command('gap')
    .description('spectral gap λ₁ (and λ₂..λ_k) of the discrete generator, with Muckenhoupt, Bakry–Émery and Kramers estimates')
    .argument('<scenario>', 'scenario file (.yaml, .yml or .json)')
    .addOption(setOption())
    .option('-k, --modes <k>', `number of eigenvalues λ₁..λ_k (1 to ${MAX_MODES})`, parseModes, 1)
    .option('--refine', 'also solve on the grid twice as fine and Richardson-extrapolate λ₁ (same mode on both grids; no error bound near a zero of f)')
    .option('--json', 'print gap.json to stdout instead of the text summary')
    .option('-o, --out <dir>', 'write gap.json into <dir>')
    .addHelpText(
      'after',
      `
Examples:
  $ fpsolve gap scenarios/double-well-2d.yaml --modes 3
  $ fpsolve gap scenarios/pearson-1d.yaml --refine --json | jq .gap.extrapolated

Methods: 1-D: bisection on the bidiagonal factor of the generator (high relative accuracy, so gaps
down to ~1e-300 relative come out right); 2-D/3-D: block shift-invert subspace iteration with
multigrid-PCG, a start block in every parity class and a final check for missed modes. The error
printed is a bound (docs/gap.md); an unconverged solve says "NOT CONVERGED" instead.
Exit codes: 0 ok, 2 bad input, 3 numerical fault, 130/143 interrupted by SIGINT/SIGTERM.`,
    )
    .action(async (file: string, o: GapCliOptions) => {
      const started = performance.now();
      // Before the solve, which can take minutes (and Node's recursive mkdir spins on /proc).
      if (o.out !== undefined) checkOutputLocation('--out', o.out, 'directory');
      const loaded = loadScenario(file, o.set);
      const setup = setUp(loaded);
      if (o.modes > setup.grid.size - 2) throw new InputError(`--modes must be at most ${setup.grid.size - 2} on this ${setup.grid.n.join('×')} grid (got ${o.modes})`);
      const input = { op: setup.op, regime: setup.regime, landscape: setup.landscape.evalPoints, compiled: setup.landscape.compiled };
      const controller = new AbortController();
      // The abort reason is the exit code (GapInterrupted carries it to main()).
      const onSignal = (sig: NodeJS.Signals): void => controller.abort(sig === 'SIGINT' ? EXIT.interrupted : EXIT.terminated);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let gap: GapReport;
      try {
        // One line on stderr (stdout may be --json): says what is running, and that it can be stopped.
        process.stderr.write(`fpsolve gap: computing λ₁${o.modes > 1 ? `..λ${o.modes}` : ''} on the ${setup.grid.n.join('×')} grid${o.refine ? ' and the grid twice as fine' : ''}\n`);
        gap = (await computeGapAsync(input, { modes: o.modes, refine: o.refine }, controller.signal)).report;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const bounds = computeBounds(input, gap.value);
      const result: GapFile = {
        fpsolve: packageVersion(),
        createdAt: new Date().toISOString(),
        scenarioFile: loaded.file,
        scenario: setup.scenario.name,
        cells: setup.grid.n.slice(),
        regime: setup.regime.regime,
        regimeReason: setup.regime.reason,
        wallSeconds: (performance.now() - started) / 1000,
        gap,
        bounds,
      };
      let written: string | null = null;
      if (o.out !== undefined) {
        mkdirSync(o.out, { recursive: true });
        written = join(o.out, 'gap.json');
        writeFileAtomic(written, reportJson(result));
      }
      if (o.json) {
        process.stdout.write(reportJson(result));
        return;
      }
      const lines = [
        `${result.scenario}: grid ${result.cells.join('×')}, regime ${result.regime}, ${result.wallSeconds.toFixed(2)} s`,
        ...formatGapLines(gap, { allModes: true }),
        ...formatBoundsLines(bounds, gap.value),
        ...[...gap.notes, ...bounds.notes].map((n) => `note: ${n}`),
        ...(written ? [`wrote: ${written}`] : []),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
