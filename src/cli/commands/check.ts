import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT, InputError, showText } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { checkOutputLocation } from '../../io/out-path.js';
import { loadBaselines } from '../../check/load.js';
import { exitCodeOf, runChecks } from '../../check/run.js';
import { formatTable, formatNumber, summaryLine } from '../../check/table.js';
import { junitXml } from '../../check/junit.js';
import { planUpdate, writeUpdate } from '../../check/update.js';
import { collect, setExitCode } from './shared.js';

export interface CheckCliOptions {
  junit?: string;
  jobs?: number;
  update?: boolean;
  only: string[];
  timeout?: number;
  json?: boolean;
  quiet?: boolean;
  allowOutside?: boolean;
}

function positiveInteger(v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`must be a whole number ≥ 1 (got '${v}')`);
  return x;
}

/**
 * Node's timers hold at most 2³¹−1 ms (~24.8 days); a longer delay fires after 1 ms with a
 * TimeoutOverflowWarning, which would kill every case at once and report false regressions.
 */
export const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function positiveSeconds(v: string): number {
  const x = Number(v);
  if (!(x > 0) || !(x <= MAX_TIMEOUT_SECONDS)) throw new InvalidArgumentError(`must be a number of seconds in (0, ${MAX_TIMEOUT_SECONDS}] (got ${showText(v)})`);
  return x;
}

const showExpected = (v: number | string | null): string => (v === null ? 'not recorded' : typeof v === 'number' ? formatNumber(v) : v);

export function checkCommand(): Command {
  return new Command('check')
    .description('run the cases of a baselines file and fail when a rate, gap or distance has moved (CI regression)')
    .argument('<baselines>', 'baselines file (.yaml, .yml or .json; see docs/check.md)')
    .option('--junit <file>', 'also write JUnit XML (one testcase per case and quantity) to <file>')
    .option('-j, --jobs <n>', 'runs in parallel (default: number of CPUs)', positiveInteger)
    .option('--update', 'record the values the runs produce as the expected values, where they are outside their tolerance or not yet recorded (comments and tolerances kept)')
    .addOption(new Option('--only <name>', 'only the case with this name (repeatable)').argParser(collect).default([] as string[], 'all cases'))
    .option('--timeout <seconds>', 'kill a run after this many seconds (it then fails)', positiveSeconds)
    .option('--json', 'print the results as JSON instead of the table')
    .option('-q, --quiet', 'no progress lines on stderr')
    .option('--allow-outside', 'allow case scenarios outside the project holding the baselines file (docs/check.md)')
    .addHelpText(
      'after',
      `
Examples:
  $ fpsolve check baselines/rates.yaml --junit reports/fpsolve.xml --jobs 2
  $ fpsolve check baselines/rates.yaml --update
  $ fpsolve check baselines/rates.yaml --update --only pearson-1d

Exit codes: 0 all pass, 1 a regression (a value outside its tolerance, a failed run, a missing
quantity or a value not recorded yet), 2 bad input (the error names the file and the entry;
an unusable --junit location is refused before any run), 74 writing --junit failed (disk full).
With --update: 0 when every value was recorded, 1 when some run produced none.`,
    )
    .action(async (file: string, o: CheckCliOptions) => {
      // Before the runs, which can take many minutes.
      if (o.junit !== undefined) checkOutputLocation('--junit', o.junit, 'file');
      const { baselines, text, doc } = loadBaselines(file, { allowOutside: o.allowOutside });
      const names = baselines.cases.map((c) => c.name);
      const unknown = o.only.filter((n) => !names.includes(n));
      if (unknown.length > 0) throw new InputError(`--only ${JSON.stringify(unknown[0])}: no such case (cases: ${names.join(', ')})`, { file });
      const jobs = o.jobs ?? Math.max(1, availableParallelism());
      const progress = !o.quiet && !o.json;
      // CI cancels jobs with SIGTERM, which children outside the terminal's process group never see: pass it on.
      const controller = new AbortController();
      let signalCode = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        signalCode = sig === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const outcome = await runChecks(baselines, {
        jobs,
        signal: controller.signal,
        only: o.only,
        timeoutSeconds: o.timeout,
        onRunDone: progress
          ? (d) => process.stderr.write(`[${d.done}/${d.total}] ${d.cases.join(', ')}: ${d.ok ? 'done' : 'FAILED'} in ${d.seconds.toFixed(1)} s\n`)
          : undefined,
      }).finally(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      });
      if (signalCode !== 0) {
        // Half the runs were cut short: neither a verdict nor an update would mean anything.
        process.stderr.write('fpsolve: check interrupted; nothing written\n');
        setExitCode(signalCode);
        return;
      }
      if (outcome.badInput !== null) throw new InputError(`a run was refused as bad input: ${outcome.badInput}`, { file });

      if (o.junit !== undefined) {
        writeFileAtomic(o.junit, junitXml(outcome.results, { suite: file, wallSeconds: outcome.wallSeconds, timestamp: new Date().toISOString() }));
      }

      if (o.update) {
        const plan = planUpdate(text, doc, outcome.results);
        if (plan.changes.length > 0) writeUpdate(file, plan);
        const lines = plan.changes.map((c) => `  ${c.caseName} ${c.quantity}: ${showExpected(c.from)} -> ${showExpected(c.to)}`);
        const kept = outcome.results.length - plan.changes.length - plan.skipped.length;
        lines.unshift(
          plan.changes.length > 0
            ? `updated ${file}: ${plan.changes.length} value(s) recorded, ${kept} within tolerance kept as they were`
            : `${file}: nothing to update (${kept} value(s) within tolerance kept as they were)`,
        );
        for (const s of plan.skipped) lines.push(`  not updated: ${s.caseName} ${s.check.quantity.name}: ${s.message}`);
        if (o.json) process.stdout.write(`${JSON.stringify({ file, changes: plan.changes, skipped: plan.skipped.map((s) => ({ case: s.caseName, quantity: s.check.quantity.name, reason: s.message })) }, null, 2)}\n`);
        else process.stdout.write(`${lines.join('\n')}\n`);
        setExitCode(plan.skipped.length > 0 ? EXIT.regression : EXIT.ok);
        return;
      }

      if (o.json) {
        const rows = outcome.results.map((r) => ({
          case: r.caseName,
          quantity: r.check.quantity.name,
          expected: r.check.expected,
          got: r.got,
          deviation: r.deviation,
          allowed: r.allowed,
          tolerance: r.check.tolerance,
          verdict: r.verdict,
          ...(r.message ? { message: r.message } : {}),
        }));
        process.stdout.write(`${JSON.stringify({ file, runs: outcome.runs, wallSeconds: outcome.wallSeconds, results: rows }, null, 2)}\n`);
      } else {
        process.stdout.write(`${formatTable(outcome.results)}\n\n${summaryLine(outcome.results, outcome.runs, outcome.wallSeconds)}\n`);
      }
      setExitCode(exitCodeOf(outcome));
    });
}
