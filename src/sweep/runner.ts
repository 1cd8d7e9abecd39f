/**
 * Runs a sweep into an output directory: each point of this shard that has no final record yet
 * runs in a persistent `fpsolve worker` process (src/parallel/worker-pool.ts; at most `jobs` at once), and its record is appended
 * to results.jsonl the moment it finishes; at the end summary.csv and the plots are rewritten from
 * every record in the directory.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { asOutputError, InputError } from '../errors.js';
import { readJsonLines, truncateTornTail } from '../io/atomic.js';
import { RecordLog } from './record-log.js';
import { LOCK_FILE, lockDirectory } from './lock.js';
import { mapPool } from '../parallel/pool.js';
import type { ChildRunResult } from '../parallel/run-request.js';
import { WorkerPool } from '../parallel/worker-pool.js';
import { MixedRunner, type PointRunner } from '../parallel/in-process.js';
import { packageVersion } from '../paths.js';
import { loadScenario, MAX_SCENARIO_BYTES } from '../scenario/load.js';
import type { LoadedScenario } from '../scenario/types.js';
import { readLimitedText } from '../io/read-limited.js';
import { canonicalJson, invalidPointKey, pointKey, sha256 } from './key.js';
import { assertOwnFile, claimDirectory, MANIFEST_FILE, pointsHash, RESULTS_FILE, type SweepManifest } from './manifest.js';
import { buildPoints, type SweepAxis, type SweepPoint } from './points.js';
import { silentProgress, type ProgressSink } from './progress.js';
import { dedupeRecords, failedRecord, isFinal, isRetryable, isSweepRecord, recordFromChild, recordLine, type PointIdentity, type SweepRecord } from './record.js';
import { inShard, type Shard } from './shard.js';
import { writePlots, writeSummaryCsv } from './summary.js';

export interface SweepSpec {
  scenarioFile: string;
  axes: SweepAxis[];
  zip: boolean;
}

export interface SweepOptions {
  out: string;
  /** Points run at once (>= 1). */
  jobs: number;
  shard: Shard | null;
  /** Extra `fpsolve run` arguments for every point (part of each point's key). */
  runArgs?: string[];
  /** Per-point wall-clock budget (`fpsolve run --max-wall`); a point past it is recorded as a timeout. */
  pointMaxWall?: number;
  plots?: boolean;
  /**
   * Run points in this process too (one of the `jobs`; the others in worker processes): no
   * start-up per worker, but a point that crashes the process ends the sweep (src/parallel/in-process.ts).
   */
  inProcess?: boolean;
  /** Abort: launch no more points, kill the running ones, keep what finished. */
  signal?: AbortSignal;
  progress?: ProgressSink;
}

export interface SweepOutcome {
  /** Points in the whole sweep. */
  total: number;
  /** Points in this shard. */
  shardPoints: number;
  /** Points skipped because results.jsonl already had a final record. */
  skipped: number;
  /** Points finished by this invocation (ok or failed). */
  finished: number;
  failed: number;
  /** Points run a second time after an infrastructure failure or a dead worker. */
  retried: number;
  interrupted: boolean;
  /** Deduplicated records of this shard, in point order (empty when interrupted). */
  records: SweepRecord[];
  written: string[];
}

interface PreparedPoint {
  point: SweepPoint;
  id: PointIdentity;
  /** Set when the scenario loader refused the point. */
  invalid?: string;
  /** The loaded scenario, kept (--in-process only, until the point has run) so that its run does not load it again. */
  loaded?: LoadedScenario;
}

function readBaseText(file: string): string {
  try {
    return readLimitedText(file, { maxBytes: MAX_SCENARIO_BYTES, what: 'scenario' });
  } catch {
    // loadScenario words the error (no such file, directory, permission).
    loadScenario(file);
    throw new InputError('cannot read the scenario', { file });
  }
}

/** The manifest and points of a sweep, without running anything (also used by --dry-run). */
export function planSweep(spec: SweepSpec, shard: Shard | null, runArgs: readonly string[] = []): { manifest: SweepManifest; points: SweepPoint[] } {
  const text = readBaseText(spec.scenarioFile);
  let baseHash: string;
  let name: string;
  try {
    const base = loadScenario(spec.scenarioFile);
    baseHash = sha256(canonicalJson(base.scenario));
    name = base.scenario.name;
  } catch (e) {
    // A base that is only valid with its overrides is still a sweep; identify it by its text.
    if (!(e instanceof InputError)) throw e;
    baseHash = sha256(text);
    name = spec.scenarioFile;
  }
  const points = buildPoints(spec.axes, spec.zip);
  const manifest: SweepManifest = {
    fpsolve: packageVersion(),
    scenarioFile: spec.scenarioFile,
    scenarioName: name,
    baseScenarioHash: baseHash,
    pointsHash: pointsHash(points),
    points: points.length,
    parameters: spec.axes.map((a) => a.path),
    zip: spec.zip,
    runArgs: [...runArgs],
    shard,
  };
  return { manifest, points };
}

function preparePoint(spec: SweepSpec, m: SweepManifest, baseText: string, point: SweepPoint, keep: boolean): PreparedPoint {
  const version = m.fpsolve;
  try {
    const loaded = loadScenario(spec.scenarioFile, point.overrides);
    const key = pointKey(loaded.scenario, version, m.runArgs);
    return { point, id: { key, index: point.index, params: point.params, fpsolve: version, scenario: loaded.scenario.name }, ...(keep ? { loaded } : {}) };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const key = invalidPointKey(baseText, point.overrides, version);
    return { point, id: { key, index: point.index, params: point.params, fpsolve: version, scenario: m.scenarioName }, invalid: e.message };
  }
}

/** Records in a sweep directory's results.jsonl (a torn last line or a corrupt interior line is skipped). */
export function readRecords(dir: string): SweepRecord[] {
  const path = join(dir, RESULTS_FILE);
  if (!existsSync(path)) return [];
  return readJsonLines(path, { skipCorrupt: true }).records.filter(isSweepRecord);
}

/** summary.csv and plots from the records in `dir`. */
export async function writeSweepOutputs(dir: string, records: readonly SweepRecord[], parameters: readonly string[], plots: boolean): Promise<string[]> {
  const written = [writeSummaryCsv(dir, records, parameters)];
  if (plots) written.push(...(await writePlots(dir, records, parameters)));
  return written;
}

export async function runSweep(spec: SweepSpec, opts: SweepOptions): Promise<SweepOutcome> {
  if (!(Number.isInteger(opts.jobs) && opts.jobs >= 1)) throw new InputError(`--jobs must be an integer >= 1 (got ${opts.jobs})`);
  const runArgs = opts.runArgs ?? [];
  const { manifest, points } = planSweep(spec, opts.shard, runArgs);
  try {
    mkdirSync(opts.out, { recursive: true });
  } catch (e) {
    throw asOutputError(e, opts.out);
  }
  for (const f of [MANIFEST_FILE, RESULTS_FILE, LOCK_FILE]) assertOwnFile(join(opts.out, f));
  // Held to the end: a second sweep into this directory would run every point again.
  const release = lockDirectory(opts.out, 'sweep');
  try {
    return await runLocked(spec, opts, manifest, points);
  } finally {
    release();
  }
}

/** Worker processes, or this process and jobs − 1 workers (--in-process); `prestart` starts the workers now. */
function makeRunner(opts: SweepOptions, jobs: number, prestart: boolean): PointRunner {
  if (opts.inProcess) return new MixedRunner(jobs, prestart ? { prestart: jobs } : {});
  const pool = new WorkerPool(jobs);
  if (prestart) pool.prestart(jobs);
  return pool;
}

/** What a retried point hit, in a few words for the progress line. */
function describeChildFailure(res: ChildRunResult): string {
  if (res.ok) return `an infrastructure failure (${res.report.failure?.kind === 'infrastructure' ? res.report.failure.reason : 'unknown'})`;
  return res.exitCode === null ? 'a worker process that died' : `an infrastructure failure (exit ${res.exitCode})`;
}

async function runLocked(spec: SweepSpec, opts: SweepOptions, manifest: SweepManifest, points: SweepPoint[]): Promise<SweepOutcome> {
  claimDirectory(opts.out, manifest);
  const resultsPath = join(opts.out, RESULTS_FILE);
  // A torn last line is a point in flight when a previous sweep here was killed: that point is not done, and its fragment must not become an interior line.
  truncateTornTail(resultsPath);
  // A fresh directory runs every point of the shard: its runners start now, overlapping the
  // validation of the points below; on a resume, only once it is known that points are left.
  const shardPoints = points.filter((p) => inShard(p.index, opts.shard)).length;
  const fresh = readRecords(opts.out).length === 0;
  let runner: PointRunner | null = fresh && shardPoints > 0 && !opts.signal?.aborted ? makeRunner(opts, Math.min(opts.jobs, shardPoints), true) : null;
  try {
    return await runPoints(spec, opts, manifest, points, (n) => (runner ??= makeRunner(opts, n, false)));
  } finally {
    await runner?.close();
  }
}

async function runPoints(spec: SweepSpec, opts: SweepOptions, manifest: SweepManifest, points: SweepPoint[], getRunner: (jobs: number) => PointRunner): Promise<SweepOutcome> {
  const runArgs = opts.runArgs ?? [];
  const resultsPath = join(opts.out, RESULTS_FILE);
  const baseText = readBaseText(spec.scenarioFile);
  const mine = points.filter((p) => inShard(p.index, opts.shard)).map((p) => preparePoint(spec, manifest, baseText, p, opts.inProcess === true));
  const doneKeys = new Set(readRecords(opts.out).filter(isFinal).map((r) => r.key));
  const todo = mine.filter((p) => !doneKeys.has(p.id.key));
  for (const p of mine) if (doneKeys.has(p.id.key)) delete p.loaded;
  const progress = opts.progress ?? silentProgress;
  const outcome: SweepOutcome = { total: points.length, shardPoints: mine.length, skipped: mine.length - todo.length, finished: 0, failed: 0, retried: 0, interrupted: false, records: [], written: [] };

  const log = new RecordLog(resultsPath);
  const save = (r: SweepRecord): void => {
    log.append(recordLine(r));
    outcome.finished++;
    if (r.status === 'failed') outcome.failed++;
    progress.pointDone(r.status === 'failed', r.status === 'failed' ? `point ${r.index} (${Object.entries(r.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}) failed: ${r.error}` : undefined);
  };

  progress.start(mine.length, outcome.skipped);
  try {
    // Rejected points need no child: the loader's message is the result.
    for (const p of todo) if (p.invalid !== undefined) save(failedRecord(p.id, p.invalid, 'input', 0));
    const runnable = todo.filter((p) => p.invalid === undefined);
    const extraArgs = [...runArgs, ...(opts.pointMaxWall !== undefined ? ['--max-wall', String(opts.pointMaxWall)] : [])];
    const pool = getRunner(Math.max(1, Math.min(opts.jobs, runnable.length)));
    try {
      await mapPool(
        runnable,
        opts.jobs,
        async (p): Promise<ChildRunResult | null> => {
          if (opts.signal?.aborted) return null;
          const req = { scenarioFile: spec.scenarioFile, overrides: p.point.overrides, extraArgs, signal: opts.signal, ...(p.loaded !== undefined ? { loaded: p.loaded } : {}) };
          try {
            const first = await pool.run(req);
            // Once, and only for a failure of the machine (docs/reliability.md "Sweeps and retries"):
            // a numerical fault would repeat bit for bit.
            if (!isRetryable(first, opts.signal?.aborted ?? false)) return first;
            outcome.retried++;
            progress.retrying?.(`point ${p.point.index} hit ${describeChildFailure(first)}: retrying it once`);
            return await pool.run(req);
          } finally {
            delete p.loaded;
          }
        },
        (res, p) => {
          if (res === null) return;
          const r = recordFromChild(p.id, res, opts.signal?.aborted ?? false);
          if (r !== null) save(r);
        },
      );
    } finally {
      await pool.close();
    }
  } finally {
    progress.stop();
    // Also when interrupted or failing: the points that finished are what a rerun skips.
    log.sync();
  }
  if (opts.signal?.aborted) {
    outcome.interrupted = true;
    return outcome;
  }
  const keys = new Set(mine.map((p) => p.id.key));
  outcome.records = dedupeRecords(readRecords(opts.out).filter((r) => keys.has(r.key)));
  outcome.written = await writeSweepOutputs(opts.out, outcome.records, manifest.parameters, opts.plots ?? true);
  return outcome;
}
