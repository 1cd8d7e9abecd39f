/**
 * Runs in the caller's own process (`fpsolve sweep --in-process`): the same request and the same
 * result as a worker of src/parallel/worker-pool.ts gives (both go through the worker's `answer`,
 * src/cli/commands/worker.ts), without a process to start. A small sweep's cost is mostly the
 * start-up of its processes (Node, fpsolve's modules, the first points before V8 has optimised
 * the code: about 1 s of CPU each, bench/results-sweep.md), which this mode pays once.
 *
 * What it gives up: isolation. A point that crashes the process (out of memory, a native fault)
 * ends the sweep instead of being recorded as a crash; the points already finished are on disk and
 * a rerun resumes (docs/sweep.md). A point past --point-max-wall still stops (--max-wall is a run
 * option), but a hung point is not killed from outside.
 */
import type { RunReport } from '../report/types.js';
import type { ChildRunRequest, ChildRunResult } from './run-request.js';
import type { LoadedScenario } from '../scenario/types.js';
import { threadShare, WorkerPool } from './worker-pool.js';

/** What runs a request: a pool of worker processes, the caller's process, or both. */
export interface PointRunner {
  run(req: ChildRunRequest): Promise<ChildRunResult>;
  close(): Promise<void>;
}

type Answer = (req: { id: number; scenarioFile: string; overrides: string[]; extraArgs: string[] }, signal: AbortSignal, loaded?: LoadedScenario) => Promise<{ exitCode: number; report?: unknown; error?: string }>;

let answerModule: Promise<Answer> | null = null;
/** The worker's request handler, loaded once (it pulls in the whole run: loaded early, it overlaps the workers' start-up). */
export function loadAnswer(): Promise<Answer> {
  answerModule ??= import('../cli/commands/worker.js').then((m) => m.answer);
  return answerModule;
}

/** One request at a time in this process. */
export class InProcessRunner implements PointRunner {
  private pending = 0;
  private closed = false;
  private nextId = 1;
  /** Requests run one after another: two runs interleaved at their report times would only share one core. */
  private tail: Promise<unknown> = Promise.resolve();

  get idle(): boolean {
    return this.pending === 0 && !this.closed;
  }

  run(req: ChildRunRequest): Promise<ChildRunResult> {
    this.pending++;
    const r = this.tail.then(() => this.runNow(req));
    this.tail = r;
    return r;
  }

  private async runNow(req: ChildRunRequest): Promise<ChildRunResult> {
    if (this.closed) {
      this.pending--;
      return { ok: false, error: 'the in-process runner was closed before this run started', exitCode: null, wallSeconds: 0 };
    }
    if (req.signal?.aborted) {
      this.pending--;
      return { ok: false, error: 'interrupted before it started', exitCode: null, wallSeconds: 0 };
    }
    const started = performance.now();
    try {
      const answer = await loadAnswer();
      // The caller's signal, not the worker's SIGTERM: the run stops at its next report time and answers "interrupted".
      const ctl = new AbortController();
      const onAbort = (): void => ctl.abort(req.signal?.reason);
      req.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        // A copy: a run that changed its scenario object must not change a retry of the same point.
        const loaded = req.loaded !== undefined ? structuredClone(req.loaded) : undefined;
        const res = await answer({ id: this.nextId++, scenarioFile: req.scenarioFile, overrides: [...req.overrides], extraArgs: [...(req.extraArgs ?? [])] }, ctl.signal, loaded);
        const wallSeconds = (performance.now() - started) / 1000;
        // As WorkerPool reads a worker's response line.
        if (res.report !== undefined && res.report !== null && typeof res.report === 'object') return { ok: true, report: res.report as RunReport, exitCode: res.exitCode, wallSeconds };
        return { ok: false, error: (res.error ?? '').trim() || `fpsolve exited with code ${res.exitCode}`, exitCode: res.exitCode, wallSeconds };
      } finally {
        req.signal?.removeEventListener('abort', onAbort);
      }
    } catch (e) {
      // answer() words every failure it expects; anything else (its module failed to load) is this process's.
      return { ok: false, error: `internal error: ${(e as Error)?.message ?? String(e)}`, exitCode: 70, wallSeconds: (performance.now() - started) / 1000 };
    } finally {
      this.pending--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * `jobs` runs at once: one in this process and `jobs − 1` in worker processes (started at once, so
 * that their start-up overlaps this process's). A request goes to this process when it is free,
 * else to the pool; callers keep at most `jobs` requests in flight (src/parallel/pool.ts mapPool),
 * so nothing waits while a runner is free.
 */
export class MixedRunner implements PointRunner {
  private readonly local = new InProcessRunner();
  private readonly pool: WorkerPool | null;
  private readonly threadsBefore: string | undefined;

  constructor(
    readonly jobs: number,
    opts: { prestart?: number } = {},
  ) {
    if (!(Number.isInteger(jobs) && jobs >= 1)) throw new RangeError(`jobs must be an integer >= 1 (got ${jobs})`);
    this.pool = jobs > 1 ? new WorkerPool(jobs - 1, { sharers: jobs }) : null;
    if (opts.prestart !== undefined && opts.prestart > 1) this.pool?.prestart(opts.prestart - 1);
    // This process is one of `jobs` runs side by side: its kernels get their share of the cores, like a worker's.
    this.threadsBefore = process.env.FPSOLVE_THREADS;
    if (this.threadsBefore === undefined && jobs > 1) process.env.FPSOLVE_THREADS = String(threadShare(jobs));
    void loadAnswer().catch(() => {}); // its failure, if any, is reported by the first run
  }

  run(req: ChildRunRequest): Promise<ChildRunResult> {
    if (this.local.idle || !this.pool) return this.local.run(req);
    return this.pool.run(req);
  }

  async close(): Promise<void> {
    await Promise.all([this.local.close(), this.pool?.close()]);
    if (this.threadsBefore === undefined) delete process.env.FPSOLVE_THREADS;
  }
}
