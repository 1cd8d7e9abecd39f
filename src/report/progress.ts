/**
 * Progress bar for long runs, on stderr: simulated time, steps, current distance and an ETA.
 * Drawn only on a terminal (a redirected stderr gets no escape codes) and only once a run has
 * taken longer than a second, so quick runs and scripts stay quiet.
 */
import cliProgress from 'cli-progress';
import type { ProgressInfo } from '../run/run.js';

/** The stream the bar draws on; process.stderr in the CLI, a fake terminal in tests. */
export interface ProgressStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  /** --quiet. */
  quiet?: boolean;
  /** Wall time before the bar first appears (default 1000 ms). */
  delayMs?: number;
  /** Clock (ms); injectable for tests. */
  now?: () => number;
}

/** Whether a bar may be drawn at all: never with --quiet, never when the stream is not a terminal. */
export function progressEnabled(opts: { quiet?: boolean; stream: { isTTY?: boolean } }): boolean {
  return !opts.quiet && opts.stream.isTTY === true;
}

const num = (v: number): string => (Number.isFinite(v) ? v.toPrecision(4) : String(v));

export class RunProgress {
  private readonly stream: ProgressStream;
  private readonly enabled: boolean;
  private readonly delayMs: number;
  private readonly now: () => number;
  private readonly started: number;
  private bar: cliProgress.SingleBar | null = null;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.enabled = progressEnabled({ quiet: opts.quiet, stream: this.stream });
    this.delayMs = opts.delayMs ?? 1000;
    this.now = opts.now ?? (() => performance.now());
    this.started = this.now();
  }

  /** Whether the bar has been drawn. */
  get shown(): boolean {
    return this.bar !== null;
  }

  /** Call at every report time (runScenario's onProgress). */
  update(p: ProgressInfo): void {
    if (!this.enabled) return;
    const payload = { t: num(p.t), end: num(p.end), steps: p.steps, l1: p.point.l1.toExponential(2), loss: num(p.point.meanLoss) };
    if (!this.bar) {
      if (this.now() - this.started < this.delayMs) return;
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: '{bar} {percentage}% | ETA {eta_formatted} | t {t}/{end} | {steps} steps | l1 {l1} | E[f] {loss}',
          barsize: 24,
          hideCursor: false,
          clearOnComplete: true,
          gracefulExit: false,
          etaBuffer: 20,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(p.end, p.t, payload);
      return;
    }
    this.bar.update(p.t, payload);
  }

  /** Removes the bar (the summary follows on a clean line). */
  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
  }
}
