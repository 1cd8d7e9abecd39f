/**
 * Scenario runs in persistent `fpsolve worker` processes: the isolation of one process per run (a crash, an
 * out-of-memory death or a kill takes one worker and its one request, never the caller) without
 * paying fpsolve's start-up (about 1 s of CPU loading mathjs, ajv, …) for every run.
 *
 * Each worker serves one request at a time over newline-delimited JSON (see
 * src/cli/commands/worker.ts). A worker that dies mid-request resolves that request as a crash;
 * a timeout or an abort SIGTERMs the worker (SIGKILL after the grace) and it is not reused. Dead
 * or retired workers are replaced on demand, up to `size` alive at once.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { packageRoot } from '../paths.js';
import type { RunReport } from '../report/types.js';
import type { ChildRunRequest, ChildRunResult } from './run-request.js';

/** Bytes of a worker's stderr kept per request (the message of a crash is at its end or start). */
const STDERR_KEEP = 64 * 1024;

interface Job {
  req: ChildRunRequest;
  id: number;
  resolve: (r: ChildRunResult) => void;
  started: number;
  timers: NodeJS.Timeout[];
  onAbort?: () => void;
}

interface Worker {
  child: ChildProcessWithoutNullStreams;
  job: Job | null;
  /** SIGTERMed (timeout, abort) or told to stop: finishes at most its current request, then exits. */
  retiring: boolean;
  stderr: string;
  exited: Promise<void>;
}

interface ResponseLine {
  id: number;
  exitCode: number;
  report?: RunReport;
  error?: string;
}

function isResponse(v: unknown): v is ResponseLine {
  return typeof v === 'object' && v !== null && typeof (v as ResponseLine).id === 'number' && typeof (v as ResponseLine).exitCode === 'number';
}

export class WorkerPool {
  readonly size: number;
  private readonly workers = new Set<Worker>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  /** Runs sharing the machine's cores with this pool's (its own and, in a mixed pool, the caller's): each gets cores ÷ that many kernel threads. */
  private readonly sharers: number;

  constructor(size: number, opts: { sharers?: number } = {}) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`worker pool size must be an integer >= 1 (got ${size})`);
    this.size = size;
    this.sharers = Math.max(size, opts.sharers ?? size);
  }

  /**
   * Starts up to `n` workers now (at most `size`), so that their start-up (Node, fpsolve's modules)
   * overlaps the caller's own set-up instead of following it. Only worth it when the caller knows
   * that many requests will come: an idle worker costs its start-up and nothing after.
   */
  prestart(n: number): void {
    if (this.closed) return;
    while (this.workers.size < Math.min(n, this.size)) {
      const w = this.spawnWorker();
      this.setRef(w, false);
    }
  }

  /** Process ids of the live workers (diagnostics and tests). */
  get pids(): number[] {
    return [...this.workers].map((w) => w.child.pid).filter((p): p is number => p !== undefined);
  }

  /** Runs one scenario as `fpsolve run --json` would; the same result and exit codes as a fresh `fpsolve run --json` process. */
  run(req: ChildRunRequest): Promise<ChildRunResult> {
    return new Promise((resolve) => {
      if (this.closed) {
        resolve({ ok: false, error: 'the worker pool is closed', exitCode: null, wallSeconds: 0 });
        return;
      }
      const job: Job = { req, id: this.nextId++, resolve, started: 0, timers: [] };
      if (req.signal?.aborted) {
        resolve({ ok: false, error: 'interrupted before it started', exitCode: null, wallSeconds: 0 });
        return;
      }
      // Still queued when aborted: it never runs.
      const onQueuedAbort = (): void => {
        const i = this.queue.indexOf(job);
        if (i >= 0) {
          this.queue.splice(i, 1);
          resolve({ ok: false, error: 'interrupted before it started', exitCode: null, wallSeconds: 0 });
        }
      };
      req.signal?.addEventListener('abort', onQueuedAbort, { once: true });
      job.onAbort = onQueuedAbort;
      this.queue.push(job);
      this.dispatch();
    });
  }

  /**
   * Ends every worker: queued requests resolve as not run; a worker busy with a request stops it
   * as on SIGTERM, answers it, and exits. Resolves when all workers have exited (SIGKILL after
   * `graceSeconds` for one that does not), so nothing of the pool keeps the process alive.
   */
  async close(graceSeconds = 5): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      if (job.onAbort) job.req.signal?.removeEventListener('abort', job.onAbort);
      job.resolve({ ok: false, error: 'the worker pool was closed before this run started', exitCode: null, wallSeconds: 0 });
    }
    const all = [...this.workers];
    for (const w of all) {
      w.retiring = true;
      this.setRef(w, true);
      w.child.stdin.end();
      const t = setTimeout(() => w.child.kill('SIGKILL'), graceSeconds * 1000);
      void w.exited.then(() => clearTimeout(t));
    }
    await Promise.all(all.map((w) => w.exited));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let w = [...this.workers].find((x) => x.job === null && !x.retiring);
      if (!w) {
        if (this.workers.size >= this.size) return;
        w = this.spawnWorker();
      }
      this.start(w, this.queue.shift()!);
    }
  }

  private spawnWorker(): Worker {
    const bin = join(packageRoot(), 'bin', 'fpsolve.js');
    // Runs side by side share the cores: each gets its share of kernel threads (solvers/exec/team.ts)
    // unless the user chose a count.
    const env = { ...process.env, FPSOLVE_THREADS: process.env.FPSOLVE_THREADS ?? String(threadShare(this.sharers)) };
    const child = spawn(process.execPath, [bin, 'worker'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let exitedResolve!: () => void;
    const w: Worker = { child, job: null, retiring: false, stderr: '', exited: new Promise((r) => (exitedResolve = r)) };
    this.workers.add(w);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      w.stderr = (w.stderr + s).slice(-STDERR_KEEP);
    });
    // A write to a worker that just died fails here; its 'close' resolves the request.
    child.stdin.on('error', () => {});
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => this.onLine(w, line));
    let spawnError: Error | null = null;
    child.on('error', (e) => {
      spawnError = e;
      // Without a process there may be no 'close' to wait for.
      if (child.pid === undefined) {
        this.workers.delete(w);
        const job = w.job;
        w.job = null;
        if (job) this.finish(job, { ok: false, error: `could not start fpsolve: ${e.message}`, exitCode: null, wallSeconds: elapsed(job) });
        exitedResolve();
        if (!this.closed) this.dispatch();
      }
    });
    child.on('close', (code, signal) => {
      this.workers.delete(w);
      const job = w.job;
      if (job) {
        w.job = null;
        const message = spawnError
          ? `could not start fpsolve: ${spawnError.message}`
          : cleanStderr(w.stderr) || (signal ? `fpsolve worker was killed by ${signal}` : `fpsolve worker exited with code ${code}`);
        this.finish(job, { ok: false, error: message, exitCode: code, wallSeconds: elapsed(job) });
      }
      exitedResolve();
      if (!this.closed) this.dispatch();
    });
    return w;
  }

  private start(w: Worker, job: Job): void {
    if (job.onAbort) job.req.signal?.removeEventListener('abort', job.onAbort);
    w.job = job;
    w.stderr = '';
    job.started = performance.now();
    this.setRef(w, true);
    const grace = (job.req.killGraceSeconds ?? 5) * 1000;
    const terminate = (): void => {
      if (w.retiring) return;
      w.retiring = true;
      w.child.kill('SIGTERM');
      // Kept past the answer: a worker that answers but then hangs must still go.
      const k = setTimeout(() => w.child.kill('SIGKILL'), grace);
      void w.exited.then(() => clearTimeout(k));
    };
    if (job.req.timeoutSeconds !== undefined) job.timers.push(setTimeout(terminate, job.req.timeoutSeconds * 1000));
    job.onAbort = terminate;
    job.req.signal?.addEventListener('abort', terminate, { once: true });
    const msg = { id: job.id, scenarioFile: job.req.scenarioFile, overrides: [...job.req.overrides], extraArgs: [...(job.req.extraArgs ?? [])] };
    w.child.stdin.write(JSON.stringify(msg) + '\n');
  }

  private onLine(w: Worker, line: string): void {
    const job = w.job;
    let res: unknown;
    try {
      res = JSON.parse(line);
    } catch {
      return; // not a response (the worker sends stray output to stderr, but be lenient)
    }
    if (!job || !isResponse(res) || res.id !== job.id) return;
    w.job = null;
    const wallSeconds = elapsed(job);
    if (res.report !== undefined && res.report !== null && typeof res.report === 'object') {
      this.finish(job, { ok: true, report: res.report, exitCode: res.exitCode, wallSeconds });
    } else {
      this.finish(job, { ok: false, error: cleanStderr(res.error ?? '') || `fpsolve exited with code ${res.exitCode}`, exitCode: res.exitCode, wallSeconds });
    }
    if (w.retiring) return; // it exits by itself after answering; 'close' replaces it
    this.setRef(w, false);
    this.dispatch();
  }

  private finish(job: Job, r: ChildRunResult): void {
    for (const t of job.timers) clearTimeout(t);
    if (job.onAbort) job.req.signal?.removeEventListener('abort', job.onAbort);
    job.resolve(r);
  }

  /** An idle worker must not keep the caller's process alive; a busy one must (its result is awaited). */
  private setRef(w: Worker, ref: boolean): void {
    for (const h of [w.child, w.child.stdin, w.child.stdout, w.child.stderr] as { ref(): void; unref(): void }[]) {
      if (ref) h.ref();
      else h.unref();
    }
  }
}

/** Kernel threads for one of `sharers` runs side by side (solvers/exec/team.ts reads FPSOLVE_THREADS). */
export function threadShare(sharers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / sharers));
}

function elapsed(job: Job): number {
  return (performance.now() - job.started) / 1000;
}

function cleanStderr(s: string): string {
  return s.trim().replace(/^fpsolve: /, '');
}
