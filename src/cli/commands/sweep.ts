import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT, InputError } from '../../errors.js';
import { checkOutputLocation } from '../../io/out-path.js';
import { buildPoints, looksLikeSweepFile, parseSetArg, parseSweepFile, readYamlDoc, type SweepAxis } from '../../sweep/points.js';
import { parseShard, inShard, type Shard } from '../../sweep/shard.js';
import { planSweep, runSweep, type SweepSpec } from '../../sweep/runner.js';
import { mergeSweeps } from '../../sweep/merge.js';
import { createProgress, silentProgress } from '../../sweep/progress.js';
import { collect, setExitCode } from './shared.js';

interface SweepCliOptions {
  set: string[];
  zip?: boolean;
  jobs: number;
  out?: string;
  shard?: string;
  runArg: string[];
  inProcess?: boolean;
  pointMaxWall?: number;
  plots: boolean;
  quiet?: boolean;
  dryRun?: boolean;
}

const positiveInt = (name: string) => (v: string): number => {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`${name} must be an integer >= 1 (got '${v}')`);
  return x;
};

/** A scenario plus --set axes, or a sweep file (whose axes the command line may extend). */
function sweepSpec(file: string, o: SweepCliOptions): SweepSpec {
  const cliAxes: SweepAxis[] = o.set.map(parseSetArg);
  const doc = readYamlDoc(file);
  if (looksLikeSweepFile(doc)) {
    const sf = parseSweepFile(doc, file);
    return { scenarioFile: sf.scenario, axes: [...sf.axes, ...cliAxes], zip: sf.zip || (o.zip ?? false) };
  }
  return { scenarioFile: file, axes: cliAxes, zip: o.zip ?? false };
}

function mergeCommand(): Command {
  return new Command('merge')
    .description('join the directories of a sharded sweep into one (refuses directories of different sweeps)')
    .argument('<dirs...>', 'sweep output directories (each with sweep.json and results.jsonl)')
    .requiredOption('-o, --out <dir>', 'directory for the merged results.jsonl, summary.csv and plots')
    .option('--no-plots', 'skip the SVG plots')
    .option('--skip-corrupt', 'skip results.jsonl lines that are not sweep records (a warning each) instead of refusing them; their points count as missing')
    .addHelpText(
      'after',
      `
Exit codes: 0 merged (points with no result yet are a warning), 2 bad input: directories of
different sweeps, a directory or shard given twice, a point with results in two directories, or a
line of a results.jsonl that is not a record (file and line named; see --skip-corrupt). An
unterminated last line (a shard killed mid-write, or still running) is left out with a warning.`,
    )
    .action(async (dirs: string[], o: { out: string; plots: boolean; skipCorrupt?: boolean }) => {
      checkOutputLocation('--out', o.out, 'directory');
      // Shown only when the merge succeeds: a refusal is one line (README "Exit codes").
      const warnings: string[] = [];
      const res = await mergeSweeps(dirs, o.out, { plots: o.plots, skipCorrupt: o.skipCorrupt === true, warn: (m) => warnings.push(m) });
      for (const w of warnings) process.stderr.write(`fpsolve: warning: ${w}\n`);
      const failed = res.records.filter((r) => r.status === 'failed').length;
      process.stdout.write(`merged ${dirs.length} director${dirs.length === 1 ? 'y' : 'ies'}: ${res.records.length} of ${res.manifest.points} points (${failed} failed)\n`);
      if (res.missing > 0) process.stderr.write(`fpsolve: warning: ${res.missing} points have no result yet; rerun their shards and merge again\n`);
      process.stdout.write(`wrote:\n${res.written.map((p) => `  ${p}`).join('\n')}\n`);
      setExitCode(EXIT.ok);
    });
}

export function sweepCommand(): Command {
  const cmd = new Command('sweep')
    .description('run a scenario over a grid of parameter values, in parallel, resumably, optionally as one shard of many')
    .argument('<file>', 'base scenario, or a sweep file (scenario: <path>, set: {path: values}, zip: bool)')
    .addOption(
      new Option('-s, --set <path=values>', "swept field (repeatable): [a,b], a,b,c, linspace(a,b,n) or logspace(a,b,n); several --set form a product")
        .argParser(collect)
        .default([] as string[], 'none'),
    )
    .option('--zip', 'pair the i-th values of every --set instead of taking the product')
    .addOption(new Option('-j, --jobs <n>', 'points run at once').argParser(positiveInt('--jobs')).default(availableParallelism(), 'number of cores'))
    .option('-o, --out <dir>', 'output directory: sweep.json, results.jsonl, summary.csv, plot-<path>.svg (required unless --dry-run)')
    .option('--shard <k/n|auto>', 'run only points k, k+n, k+2n, … (1-based); auto: from the Slurm array variables')
    .addOption(new Option('--run-arg <arg>', 'extra argument for every `fpsolve run` (repeatable; use --run-arg=--flag)').argParser(collect).default([] as string[], 'none'))
    .option('--point-max-wall <seconds>', 'stop a point after this wall time and record it as a timeout', (v) => {
      const x = Number(v);
      if (!(x > 0)) throw new InvalidArgumentError('must be a positive number of seconds');
      return x;
    })
    .option('--in-process', 'run points in this process too (one of --jobs; the rest in worker processes): faster for small sweeps, but a point that crashes the process ends the sweep (rerun to resume)')
    .option('--no-plots', 'skip the SVG plots')
    .option('-q, --quiet', 'no progress output')
    .option('--dry-run', 'list the points (of this shard) and exit')
    .addHelpText(
      'after',
      `
Examples:
  $ fpsolve sweep scenarios/double-well-1d.yaml --set 'noise.eta=logspace(-2,0,9)' --set noise.sigma=1,2,4 --jobs 2 --out sweeps/dw
  $ fpsolve sweep scenarios/pearson-1d.yaml --set 'domain.cells=[[500],[1000],[2000]]' --out sweeps/grid
  $ fpsolve sweep scenarios/double-well-1d.yaml --set noise.eta=0.1,0.2 --shard auto --out sweeps/dw-$SLURM_ARRAY_TASK_ID
  $ fpsolve sweep merge sweeps/dw-*/ --out sweeps/dw

Rerunning the same command resumes: points already in results.jsonl are skipped.
Exit codes: 0 every point has a result (failed points included, see summary.csv), 2 bad input
(or every point failed validation, or another sweep is running into the same --out), 74 writing
into --out failed (disk full),
130/143 interrupted by SIGINT/SIGTERM (finished points are kept).`,
    )
    .action(async (file: string, o: SweepCliOptions) => {
      const spec = sweepSpec(file, o);
      const shard: Shard | null = o.shard !== undefined ? parseShard(o.shard) : null;
      if (o.dryRun) {
        const { points, manifest } = planSweep(spec, shard, o.runArg);
        const mine = points.filter((p) => inShard(p.index, shard));
        process.stdout.write(`${manifest.points} points${shard ? `, shard ${shard.k}/${shard.n} runs ${mine.length}` : ''}\n`);
        for (const p of mine) process.stdout.write(`${p.index}\t${p.overrides.join(' ')}\n`);
        setExitCode(EXIT.ok);
        return;
      }
      if (o.out === undefined) throw new InputError('sweep: --out <dir> is required (where results.jsonl and summary.csv go)');
      checkOutputLocation('--out', o.out, 'directory');
      buildPoints(spec.axes, spec.zip); // fail fast on bad axes before any output exists
      const controller = new AbortController();
      let signalCode = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        // A second signal means "now": the children already have their SIGTERM, and every finished point is on disk.
        if (signalCode !== 0) process.exit(signalCode);
        signalCode = sig === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const res = await runSweep(spec, {
          out: o.out,
          jobs: o.jobs,
          inProcess: o.inProcess === true,
          shard,
          runArgs: o.runArg,
          pointMaxWall: o.pointMaxWall,
          plots: o.plots,
          signal: controller.signal,
          progress: o.quiet ? silentProgress : createProgress(),
        });
        if (res.interrupted) {
          process.stderr.write(`fpsolve: sweep interrupted: ${res.finished} points finished in this run are saved in ${o.out}; rerun the same command to resume\n`);
          setExitCode(signalCode || EXIT.interrupted);
          return;
        }
        const failed = res.records.filter((r) => r.status === 'failed').length;
        const scope = shard ? ` (shard ${shard.k}/${shard.n} of ${res.total})` : '';
        process.stdout.write(
          `sweep: ${res.records.length} point${res.records.length === 1 ? '' : 's'}${scope}: ${res.records.length - failed} ok, ${failed} failed; ${res.finished} run now, ${res.skipped} already done${res.retried ? `, ${res.retried} retried after an infrastructure failure` : ''}\n`,
        );
        if (res.written.length) process.stdout.write(`wrote:\n${res.written.map((p) => `  ${p}`).join('\n')}\n`);
        // Every point rejected by validation is almost always a typo in a --set path or the base scenario.
        const allInvalid = res.records.length > 0 && res.records.every((r) => r.errorKind === 'input');
        if (allInvalid) process.stderr.write(`fpsolve: every point failed validation; the first: ${res.records[0]!.error}\n`);
        setExitCode(allInvalid ? EXIT.badInput : EXIT.ok);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  // Without positional options, `sweep merge … --out d` would hand --out to `sweep` itself.
  cmd.enablePositionalOptions().addCommand(mergeCommand().exitOverride());
  return cmd;
}
