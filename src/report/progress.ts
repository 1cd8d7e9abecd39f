/**
 * Progress for long runs, on stderr: the set-up phases and the spectral gap as one status line,
 * the stepping as a bar (simulated time, steps, current distance and an ETA). Drawn only on a
 * terminal (a redirected stderr gets no escape codes) unless --progress asks for it (then plain
 * lines); the bar only once a run has taken longer than a second, and the phase line is
 * cleared, so quick runs leave nothing behind. Never on stdout, which may carry --json.
 */
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import type { PhaseInfo, ProgressInfo } from '../run/types.js';

/** cli-progress (17 modules) is required when a bar is first drawn: most runs never draw one. */
const cliProgress = (): typeof cliProgressModule => createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;

/** The stream the bar draws on; process.stderr in the CLI, a fake terminal in tests. */
export interface ProgressStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  /** --quiet. */
  quiet?: boolean;
  /** --progress: also when the stream is not a terminal (plain lines, no escape codes). */
  force?: boolean;
  /** Wall time before the bar first appears (default 1000 ms). */
  delayMs?: number;
  /** Clock (ms); injectable for tests. */
  now?: () => number;
}

/** Whether a bar may be drawn at all: never with --quiet, never when the stream is not a terminal. */
export function progressEnabled(opts: { quiet?: boolean; force?: boolean; stream: { isTTY?: boolean } }): boolean {
  return !opts.quiet && (opts.stream.isTTY === true || opts.force === true);
}

/** One line saying what a set-up or gap phase is doing. */
export function phaseLine(p: PhaseInfo): string {
  if (p.phase === 'setup') return `set-up: ${p.step}`;
  const parts = [`gap: ${p.step}`];
  if (p.iterations !== undefined) parts.push(`${p.iterations} solver checkpoints`);
  if (p.converged !== undefined) parts.push(`${p.converged}${p.wanted !== undefined ? `/${p.wanted}` : ''} modes converged`);
  return parts.join(', ');
}

const num = (v: number): string => (Number.isFinite(v) ? v.toPrecision(4) : String(v));

export class RunProgress {
  private readonly stream: ProgressStream;
  private readonly enabled: boolean;
  private readonly delayMs: number;
  private readonly now: () => number;
  private readonly started: number;
  private bar: cliProgressModule.SingleBar | null = null;
  private readonly tty: boolean;
  /** The phase line now on screen (a terminal: rewritten in place), '' when none. */
  private line = '';
  private lastLineAt = -Infinity;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.enabled = progressEnabled({ quiet: opts.quiet, force: opts.force, stream: this.stream });
    this.tty = this.stream.isTTY === true;
    this.delayMs = opts.delayMs ?? 1000;
    this.now = opts.now ?? (() => performance.now());
    this.started = this.now();
  }

  /** Whether the bar has been drawn. */
  get shown(): boolean {
    return this.bar !== null;
  }

  /**
   * A set-up or gap phase (runScenario's onPhase), written at once, not on a timer. On a terminal one line is rewritten in place; otherwise a new line
   * per phase, and gap checkpoints at most every 2 s.
   */
  phase(p: PhaseInfo): void {
    if (!this.enabled) return;
    if (this.bar) {
      // The stepping is over when the gap starts: its bar gives way to the gap's line.
      if (p.phase !== 'gap') return;
      this.bar.stop();
      this.bar = null;
    }
    // No delay here, unlike the bar: set-up is synchronous, so a phase not shown when it starts
    // would stay hidden for all of its (possibly long) duration. On a terminal the line is
    // rewritten in place and cleared, so a quick run leaves nothing behind.
    const now = this.now();
    const text = phaseLine(p);
    if (text === this.line) return;
    const sameStep = this.line.split(',')[0] === text.split(',')[0];
    if (this.tty) {
      this.stream.write(`\r\x1b[K${text}`);
    } else {
      if (sameStep && now - this.lastLineAt < 2000) return;
      this.stream.write(`${text}\n`);
    }
    this.line = text;
    this.lastLineAt = now;
  }

  /** Clears the phase line on a terminal. */
  private clearLine(): void {
    if (this.line !== '' && this.tty) this.stream.write('\r\x1b[K');
    this.line = '';
  }

  /** Call at every report time (runScenario's onProgress). */
  update(p: ProgressInfo): void {
    if (!this.enabled) return;
    this.clearLine();
    const payload = { t: num(p.t), end: num(p.end), steps: p.steps, l1: p.point.l1.toExponential(2), loss: num(p.point.meanLoss) };
    if (!this.bar) {
      if (this.now() - this.started < this.delayMs) return;
      this.bar = new (cliProgress().SingleBar)(
        {
          stream: this.stream,
          format: '{bar} {percentage}% | ETA {eta_formatted} | t {t}/{end} | {steps} steps | l1 {l1} | E[f] {loss}',
          barsize: 24,
          hideCursor: false,
          clearOnComplete: true,
          gracefulExit: false,
          etaBuffer: 20,
          fps: 5,
          // --progress on a pipe or file: plain redraws at most every 2 s.
          noTTYOutput: !this.tty,
          notTTYSchedule: 2000,
        },
        cliProgress().Presets.shades_classic,
      );
      this.bar.start(p.end, p.t, payload);
      return;
    }
    this.bar.update(p.t, payload);
  }

  /** Removes the bar (the summary follows on a clean line). */
  stop(): void {
    this.clearLine();
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
  }
}
