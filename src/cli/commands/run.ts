import { Command, InvalidArgumentError } from 'commander';
import { loadScenario } from '../../scenario/load.js';
import { runScenario } from '../../run/run.js';
import { writeRunOutputs, reportJson } from '../../report/write.js';
import { formatSummary } from '../../report/summary.js';
import { EXIT } from '../../errors.js';
import { setExitCode, setOption } from '../shared.js';

export interface RunCliOptions {
  out?: string;
  set: string[];
  json?: boolean;
  quiet?: boolean;
  maxWall?: number;
}

export function runCommand(): Command {
  return new Command('run')
    .description('solve the Fokker–Planck equation of a scenario and report convergence to π')
    .argument('<scenario>', 'scenario file (.yaml, .yml or .json)')
    .addOption(setOption())
    .option('-o, --out <dir>', 'write report.json, series.csv, density.npy and pi.npy (+ axes) into <dir>')
    .option('--json', 'print report.json to stdout instead of the summary')
    .option('-q, --quiet', 'no progress output')
    .option('--max-wall <seconds>', 'stop cleanly after this wall time with a partial report (status "incomplete")', (v) => {
      const x = Number(v);
      if (!(x > 0)) throw new InvalidArgumentError('must be a positive number of seconds');
      return x;
    })
    .addHelpText(
      'after',
      `
Examples:
  $ fpsolve run scenarios/double-well-1d.yaml --out runs/dw1
  $ fpsolve run scenarios/pearson-1d.yaml --set noise.eta=0.05 --set 'domain.cells=[4000]'
  $ fpsolve run scenarios/ou-2d.yaml --json | jq .rates

Exit codes: 0 ok, 2 bad input, 3 numerical fault (report kept, status "failed"),
130/143 interrupted by SIGINT/SIGTERM (report kept, status "interrupted").`,
    )
    .action(async (file: string, o: RunCliOptions) => {
      const loaded = loadScenario(file, o.set);
      const controller = new AbortController();
      let signalCode = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        signalCode = sig === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const showProgress = !o.quiet && !o.json && process.stderr.isTTY;
      try {
        const result = await runScenario(loaded, {
          signal: controller.signal,
          maxWallSeconds: o.maxWall,
          onProgress: showProgress
            ? (p) => {
                const pct = ((100 * p.t) / p.end).toFixed(0).padStart(3);
                process.stderr.write(`\r${pct}%  t = ${p.t.toPrecision(4)} / ${p.end}  steps ${p.steps}  l1 ${p.point.l1.toExponential(2)}   `);
              }
            : undefined,
        });
        if (showProgress) process.stderr.write('\r\x1b[K');
        const written = o.out ? writeRunOutputs(o.out, result) : [];
        if (o.json) process.stdout.write(reportJson(result.report));
        else {
          process.stdout.write(formatSummary(result.report) + '\n');
          if (written.length) process.stdout.write(`wrote:\n${written.map((p) => `  ${p}`).join('\n')}\n`);
        }
        const status = result.report.status;
        setExitCode(status === 'failed' ? EXIT.numericalFault : status === 'interrupted' ? signalCode || EXIT.interrupted : EXIT.ok);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
