/** Progress bar (issue 8 §3): drawn on a terminal after a second, never on a pipe or with --quiet. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RunProgress, phaseLine, progressEnabled } from '../src/report/progress.js';
import type { ProgressInfo } from '../src/run/run.js';

class FakeStream extends Writable {
  text = '';
  isTTY: boolean;
  columns = 160;
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

const info = (t: number, steps: number): ProgressInfo => ({
  t,
  end: 2,
  steps,
  point: { t, mass: 1, minDensity: 0, meanLoss: 0.25, l1: 0.0123, kl: 0, chi2: 0, log10Chi2: 0, massBelowDelta: 0 },
});

describe('progress', () => {
  it('is enabled only on a terminal without --quiet', () => {
    expect(progressEnabled({ stream: { isTTY: true } })).toBe(true);
    expect(progressEnabled({ stream: { isTTY: true }, quiet: true })).toBe(false);
    expect(progressEnabled({ stream: { isTTY: false } })).toBe(false);
    expect(progressEnabled({ stream: {} })).toBe(false);
  });

  it('stays silent for the first second, then shows t, steps, l1 and E[f] with an ETA', () => {
    let clock = 0;
    const s = new FakeStream(true);
    const p = new RunProgress({ stream: s, now: () => clock });
    clock = 999;
    p.update(info(0.5, 10));
    expect(s.text).toBe('');
    expect(p.shown).toBe(false);
    clock = 1001;
    p.update(info(1, 20));
    expect(p.shown).toBe(true);
    expect(s.text).toContain('t 1.000/2.000');
    expect(s.text).toContain('20 steps');
    expect(s.text).toContain('l1 1.23e-2');
    expect(s.text).toContain('E[f] 0.2500');
    expect(s.text).toContain('50%');
    expect(s.text).toContain('ETA');
    p.stop();
    expect(p.shown).toBe(false);
  });

  it('writes nothing at all to a non-terminal or with quiet (phases included)', () => {
    for (const [tty, quiet] of [
      [false, false],
      [true, true],
    ] as const) {
      let clock = 0;
      const s = new FakeStream(tty);
      const p = new RunProgress({ stream: s, quiet, now: () => clock });
      clock = 5000;
      p.phase({ phase: 'setup', step: 'regime classification' });
      p.update(info(1, 20));
      p.phase({ phase: 'gap', step: 'spectral gap', iterations: 3 });
      p.update(info(2, 40));
      p.stop();
      expect(s.text).toBe('');
    }
  });

  it('--progress (force) enables it on a non-terminal, never with --quiet', () => {
    expect(progressEnabled({ stream: { isTTY: false }, force: true })).toBe(true);
    expect(progressEnabled({ stream: { isTTY: false }, force: true, quiet: true })).toBe(false);
  });

  it('set-up and gap phases: one line rewritten in place on a terminal, cleared before the bar and at the end', () => {
    let clock = 0;
    const s = new FakeStream(true);
    const p = new RunProgress({ stream: s, now: () => clock, delayMs: 1000 });
    // No delay for phases: set-up is synchronous, a phase not shown at its start would stay hidden.
    p.phase({ phase: 'setup', step: 'π and the flux coefficients' });
    expect(s.text).toBe('\r\x1b[Kset-up: π and the flux coefficients');
    clock = 4000;
    p.phase({ phase: 'setup', step: 'regime classification' });
    expect(s.text.endsWith('\r\x1b[Kset-up: regime classification')).toBe(true);
    // The bar replaces the line.
    p.update(info(1, 20));
    expect(s.text).toContain('\r\x1b[K');
    expect(p.shown).toBe(true);
    // The gap's line replaces the bar (the stepping is over).
    p.phase({ phase: 'gap', step: 'spectral gap', iterations: 7 });
    expect(p.shown).toBe(false);
    expect(s.text.endsWith('gap: spectral gap, 7 solver checkpoints')).toBe(true);
    p.stop();
    expect(s.text.endsWith('\r\x1b[K')).toBe(true);
  });

  it('with --progress on a pipe: plain lines, no escape codes, gap counts at most every 2 s', () => {
    let clock = 0;
    const s = new FakeStream(false);
    const p = new RunProgress({ stream: s, force: true, now: () => clock });
    p.phase({ phase: 'setup', step: 'regime classification' });
    p.phase({ phase: 'gap', step: 'spectral gap', iterations: 1 });
    clock += 500;
    p.phase({ phase: 'gap', step: 'spectral gap', iterations: 2 });
    clock += 2000;
    p.phase({ phase: 'gap', step: 'spectral gap', iterations: 3 });
    p.stop();
    expect(s.text).toBe('set-up: regime classification\ngap: spectral gap, 1 solver checkpoints\ngap: spectral gap, 3 solver checkpoints\n');
    expect(s.text).not.toContain('\x1b');
  });

  it('phase lines name the phase, the step and the counts given', () => {
    expect(phaseLine({ phase: 'setup', step: 'initial density' })).toBe('set-up: initial density');
    expect(phaseLine({ phase: 'gap', step: 'spectral gap', converged: 1, wanted: 3 })).toBe('gap: spectral gap, 1/3 modes converged');
  });
});
