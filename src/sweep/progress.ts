/**
 * Sweep progress on stderr: a bar with ETA and done/failed counts on a terminal; on anything
 * else (CI logs, Slurm output files) plain lines now and then, with no escape codes.
 */
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';

/** cli-progress (17 modules) is required only when a bar is drawn: sweeps logged to a file or run by a script never draw one. */
const cliProgress = (): typeof cliProgressModule => createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;

export interface ProgressSink {
  start(total: number, alreadyDone: number): void;
  pointDone(failed: boolean, message?: string): void;
  /** A point is run a second time after an infrastructure failure (src/sweep/runner.ts). */
  retrying?(message: string): void;
  stop(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Seconds between plain lines when the stream is not a terminal. */
  lineEverySeconds?: number;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function createProgress(opts: ProgressOptions = {}): ProgressSink {
  const stream = opts.stream ?? process.stderr;
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream, opts.lineEverySeconds ?? 10);
}

export const silentProgress: ProgressSink = { start() {}, pointDone() {}, stop() {} };

class BarProgress implements ProgressSink {
  private readonly bar: cliProgressModule.SingleBar;
  private done = 0;
  private failed = 0;
  constructor(stream: NodeJS.WriteStream) {
    const bars = cliProgress();
    this.bar = new bars.SingleBar(
      { stream, format: 'sweep {bar} {value}/{total} points | failed {failed} | {duration_formatted} elapsed | ETA {eta_formatted}', hideCursor: true, etaBuffer: 20 },
      bars.Presets.shades_classic,
    );
  }
  start(total: number, alreadyDone: number): void {
    this.done = alreadyDone;
    this.bar.start(total, alreadyDone, { failed: this.failed });
  }
  pointDone(failed: boolean): void {
    this.done++;
    if (failed) this.failed++;
    this.bar.update(this.done, { failed: this.failed });
  }
  stop(): void {
    this.bar.stop();
  }
}

class LineProgress implements ProgressSink {
  private total = 0;
  private done = 0;
  private startDone = 0;
  private failed = 0;
  private started = 0;
  private lastLine = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly everySeconds: number,
  ) {}
  start(total: number, alreadyDone: number): void {
    this.total = total;
    this.done = this.startDone = alreadyDone;
    this.started = this.lastLine = performance.now();
    this.stream.write(`sweep: ${total} points${alreadyDone ? `, ${alreadyDone} already done` : ''}\n`);
  }
  pointDone(failed: boolean, message?: string): void {
    this.done++;
    if (failed) {
      this.failed++;
      if (message) this.stream.write(`sweep: ${message}\n`);
    }
    const now = performance.now();
    if (this.done === this.total || (now - this.lastLine) / 1000 >= this.everySeconds) {
      this.lastLine = now;
      const elapsed = (now - this.started) / 1000;
      const rate = (this.done - this.startDone) / elapsed;
      const eta = rate > 0 ? (this.total - this.done) / rate : Infinity;
      this.stream.write(`sweep: ${this.done}/${this.total} done, ${this.failed} failed, ${formatSeconds(elapsed)} elapsed, ETA ${formatSeconds(eta)}\n`);
    }
  }
  retrying(message: string): void {
    this.stream.write(`sweep: ${message}\n`);
  }
  stop(): void {}
}
