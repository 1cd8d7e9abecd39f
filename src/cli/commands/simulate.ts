import { EXIT, InputError } from '../../errors.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { packageVersion } from '../../paths.js';
import { checkParticleBudget } from '../../run/budget.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadScenario } from '../../scenario/load.js';
import { simulateScenario, MAX_PARTICLES, MIN_PARTICLES } from '../../simulate/compare.js';
import { writeSimulateOutputs } from '../../simulate/output.js';
import { reportJson } from '../../report/write.js';
import type { SimMethod, SimulateReport } from '../../simulate/types.js';
import { setOption } from './shared.js';
import { checkOutputLocation } from '../../io/out-path.js';

export interface SimulateCliOptions {
  particles: number;
  seed: number;
  method?: 'sde' | 'sgd' | 'both';
  dt?: number;
  out?: string;
  set: string[];
  json?: boolean;
  quiet?: boolean;
  plots: boolean;
  firstPassage?: boolean;
  from?: string;
  to?: string;
  maxTime?: number;
  confidence?: number;
}

function positive(name: string): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!(x > 0) || !Number.isFinite(x)) throw new InvalidArgumentError(`${name} must be a positive number`);
    return x;
  };
}

function integerIn(name: string, lo: number, hi: number): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!Number.isSafeInteger(x) || x < lo || x > hi) throw new InvalidArgumentError(`${name} must be an integer from ${lo} to ${hi}`);
    return x;
  };
}

const fmt = (v: number): string => (v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(+v.toPrecision(4)) : v.toExponential(3));

/** Plain-text summary: the noise map's assumptions first (they qualify every number below), then one table per method. */
export function formatSimulateSummary(r: SimulateReport): string {
  const lines: string[] = [`${r.scenario.name}: ${r.particles} particles, seed ${r.seed}; PDE by ${r.pde.integrator} (${r.pde.steps} steps)`];
  if (r.noiseFromData) {
    const n = r.noiseFromData;
    lines.push('', `noise from data: σ = ${fmt(n.sigma)} (ησ = ${fmt(n.eta * n.sigma)}), fitted with relative RMS misfit ${fmt(n.relativeRmsResidual)}. Assumptions:`);
    for (const a of n.assumptions) lines.push(`  - ${a}`);
    for (const w of n.warnings) lines.push(`  ! ${w}`);
  }
  for (const m of r.methods) {
    lines.push('', `${m.method}: ${m.description}; ${m.steps} steps of ${fmt(m.dt)}`);
    lines.push('       t     L1   floor  L1/floor    E[f] MC   E[f] PDE  ratio');
    for (const c of m.comparisons) {
      lines.push(
        [fmt(c.t).padStart(8), fmt(c.l1).padStart(6), fmt(c.l1Floor).padStart(7), fmt(c.l1OverFloor).padStart(9), fmt(c.meanLoss.mc).padStart(10), fmt(c.meanLoss.pde).padStart(10), fmt(c.meanLoss.ratio).padStart(6)].join(' '),
      );
    }
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('Monte-Carlo check: Euler–Maruyama for the SDE (and real mini-batch SGD on data landscapes) against the PDE density')
    .argument('<scenario>', 'scenario file (.yaml, .yml or .json)')
    .addOption(setOption())
    .option('-n, --particles <count>', `number of particles, ${MIN_PARTICLES} to ${MAX_PARTICLES}`, integerIn('--particles', MIN_PARTICLES, MAX_PARTICLES), 100000)
    .option('--seed <int>', 'seed of the random stream (same seed, same report)', integerIn('--seed', 0, Number.MAX_SAFE_INTEGER), 1)
    .addOption(new Option('--method <name>', 'sde (Euler–Maruyama), sgd (mini-batch SGD, data landscapes) or both; default: sgd for noise from data, else sde').choices(['sde', 'sgd', 'both']))
    .option('--dt <step>', 'Euler–Maruyama step (default min(reportEvery/50, 0.02/max curvature))', (v) => {
      const x = Number(v);
      if (!(x > 0) || !Number.isFinite(x)) throw new InvalidArgumentError('--dt must be a positive number');
      return x;
    })
    .option('-o, --out <dir>', 'write report.json, pde.npy, sde.npy/sgd.npy, times.npy and compare.svg into <dir>')
    .option('--no-plots', 'do not render compare.svg')
    .option('--json', 'print report.json to stdout instead of the summary')
    .option('-q, --quiet', 'no progress output')
    .option('--first-passage', 'instead of densities: run the particles from ρ₀ until they enter --from or --to, and print P(--to first) with its Wilson interval and the mean hitting time (the Monte-Carlo check of fpsolve committor)')
    .option('--from <set>', 'with --first-passage: the set the paths may hit first instead of --to (set syntax of fpsolve committor)')
    .option('--to <set>', 'with --first-passage: the target set')
    .option('--max-time <t>', 'with --first-passage: paths stop at this time (default: the scenario time.end)', positive('--max-time'))
    .option('--confidence <c>', 'with --first-passage: of the Wilson interval, in (0, 1) (default 0.95)', (v) => {
      const x = Number(v);
      if (!(x > 0 && x < 1)) throw new InvalidArgumentError('--confidence must be a number in (0, 1)');
      return x;
    })
    .addHelpText(
      'after',
      `
Examples:
  $ fpsolve simulate scenarios/pearson-1d.yaml --particles 100000 --seed 1 --out runs/mc
  $ fpsolve simulate scenarios/neuron-1d.yaml --method both --particles 20000
  $ fpsolve simulate scenarios/double-well-2d.yaml --set time.end=0.5 --json | jq '.methods[0].comparisons'
  $ fpsolve simulate scenarios/double-well-2d.yaml --first-passage --from min1 --to min2 --max-time 50 -n 20000

L1 is Σ|ρ̂ − ρ|·|K| between the histogram and the PDE density at each report time; "floor" is the
L1 expected from Monte-Carlo noise alone (N particles drawn from the PDE density itself), so
L1/floor near 1 means agreement to within sampling error. Exit codes: 0 ok, 2 bad input,
3 numerical fault.`,
    )
    .action(async (file: string, o: SimulateCliOptions) => {
      // Before the PDE run and the particles (and Node's recursive mkdir spins on /proc).
      if (o.out !== undefined) checkOutputLocation('--out', o.out, 'directory');
      if (o.firstPassage || o.from !== undefined || o.to !== undefined || o.maxTime !== undefined || o.confidence !== undefined) {
        await firstPassageAction(file, o);
        return;
      }
      const loaded = loadScenario(file, o.set);
      // Refused before the PDE run, which may itself take a while.
      if (o.dt !== undefined) checkParticleBudget(loaded.scenario.time.end, o.dt, o.particles, { option: '--dt' });
      const methods: SimMethod[] | undefined = o.method === 'both' ? ['sde', 'sgd'] : o.method ? [o.method] : undefined;
      const progress = !o.quiet && !o.json && process.stderr.isTTY;
      // Like run, an interrupted simulate says so in one line (Node's default would exit silently);
      // the outputs are written only after the particles, so there is nothing partial to keep.
      const onSignal = (sig: NodeJS.Signals): void => {
        process.stderr.write(`${progress ? '\r\x1b[K' : ''}fpsolve: simulate interrupted by ${sig} before its outputs were written\n`);
        process.exit(sig === 'SIGINT' ? EXIT.interrupted : EXIT.terminated);
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let result: Awaited<ReturnType<typeof simulateScenario>>;
      try {
        result = await simulateScenario(loaded, {
          particles: o.particles,
          seed: o.seed,
          methods,
          dt: o.dt,
          onProgress: progress ? (m) => process.stderr.write(`\r${m}\x1b[K`) : undefined,
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (progress) process.stderr.write('\r\x1b[K');
      const written = o.out !== undefined ? await writeSimulateOutputs(o.out, result, { plots: o.plots }) : [];
      if (o.json) process.stdout.write(reportJson(result.report));
      else {
        process.stdout.write(formatSimulateSummary(result.report) + '\n');
        if (written.length) process.stdout.write(`wrote:\n${written.map((p) => `  ${p}`).join('\n')}\n`);
      }
    });
}

/** `simulate --first-passage` (src/escape/simulate-passage.ts). */
async function firstPassageAction(file: string, o: SimulateCliOptions): Promise<void> {
  if (!o.firstPassage) throw new InputError('--from, --to, --max-time and --confidence belong to --first-passage: add it, or leave them out for the density comparison');
  if (o.from === undefined || o.to === undefined) throw new InputError('--first-passage needs both --from SET and --to SET (set syntax: fpsolve committor --help)');
  if (o.method !== undefined && o.method !== 'sde') throw new InputError('--first-passage runs the SDE paths only: leave out --method or give --method sde');
  const { setUp } = await import('../../run/run.js');
  const { initialDensityFor } = await import('../../run/setup.js');
  const { escapeInput } = await import('../../escape/cli-common.js');
  const { simulateFirstPassage, formatFirstPassage } = await import('../../escape/simulate-passage.js');
  const loaded = loadScenario(file, o.set);
  const setup = setUp(loaded);
  const input = escapeInput(setup, initialDensityFor(loaded, setup.grid));
  const report = simulateFirstPassage(setup, input, { from: o.from, to: o.to, particles: o.particles, seed: o.seed, dt: o.dt, maxTime: o.maxTime, confidence: o.confidence });
  const full = { fpsolve: packageVersion(), createdAt: new Date().toISOString(), scenarioFile: loaded.file, ...report };
  if (o.out !== undefined) {
    mkdirSync(o.out, { recursive: true });
    writeFileAtomic(join(o.out, 'report.json'), reportJson(full));
  }
  if (o.json) process.stdout.write(reportJson(full));
  else process.stdout.write(formatFirstPassage(report) + (o.out !== undefined ? `\nwrote: ${join(o.out, 'report.json')}` : '') + '\n');
}
