/**
 * Honest rates (issue #15 item 6): a fit with poor r², a negative rate, a plateau at round-off or
 * the tail of an alternating error is never reported as a rate; the report says why instead.
 * Synthetic series have exact rates by construction; the run checks compare with eigenvalues
 * of the generator from a Sturm bisection written here, and with docs/oracles.md §1 Pearson.
 */
import { describe, expect, it } from 'vitest';
import { fitRate, fitTailRate, reportRates } from '../src/diagnostics/rates.js';
import { runBundled, loadBundled } from './helpers/run-inline.js';
import { setUp } from '../src/run/run.js';
import { sturmEigenvalue } from './helpers/sturm.js';

const times = (end: number, dt: number): number[] => Array.from({ length: Math.round(end / dt) + 1 }, (_, k) => k * dt);

describe('fitRate on series with known rates', () => {
  it('an alternating error (the double-well-1d pattern) is not fitted as a rate', () => {
    // E f − E_π f = −c e^{−λt} (λ = 1.04) plus an error of alternating sign decaying at 0.34, the
    // pattern TR-BDF2 leaves in double-well-1d at reportEvery 5 (|q| then decays at 0.34).
    const t = times(100, 5);
    const q = t.map((s, k) => -0.0079 * Math.exp(-1.04 * s) + 3e-7 * (-1) ** (k + 1) * Math.exp(-0.34 * s));
    expect(fitTailRate(t, q.map(Math.abs), { floor: 1e-13 })!.value).toBeCloseTo(0.34, 2); // what |q| alone gives
    const o = fitRate(t, q, { floor: 1e-13, signed: true, label: 'E[f] − E_π[f]' });
    expect(o.fit).toBeNull();
    expect(o.reason).toMatch(/changes sign \d+ times from t = 15/);
    // Sampled 20× finer the part before the oscillation is long enough: the rate is λ itself.
    const tf = times(100, 0.25);
    const qf = tf.map((s, k) => -0.0079 * Math.exp(-1.04 * s) + 3e-7 * (-1) ** (k + 1) * Math.exp(-0.34 * s));
    const f = fitRate(tf, qf, { floor: 1e-13, signed: true }).fit!;
    expect(Math.abs(f.value / 1.04 - 1)).toBeLessThan(5e-3);
    expect(f.note).toMatch(/changes sign/);
  });

  it('a single sign change (two modes of opposite sign) is fitted after the crossing', () => {
    // q = e^{−t} − 2e^{−3t}: crosses zero once at t = ln(2)/2, then decays at exactly 1.
    const t = times(20, 0.1);
    const o = fitRate(t, t.map((s) => Math.exp(-s) - 2 * Math.exp(-3 * s)), { floor: 1e-12, signed: true });
    expect(Math.abs(o.fit!.value - 1)).toBeLessThan(1e-3);
    expect(o.fit!.note).toMatch(/changes sign once/);
  });

  it('a decay into a round-off plateau: the rate of the decay, the plateau left out, with the reason', () => {
    // KL-like: 1e-2 e^{−2t} on a ripple of 3e-15 (what a Pearson run's KL does from t ≈ 20).
    const t = times(40, 0.5);
    const q = t.map((s, k) => 1e-2 * Math.exp(-2 * s) + 3e-15 * (1 + 0.5 * Math.sin(7 * k)));
    const o = fitRate(t, q, { floor: 1e-20, label: 'KL' });
    expect(Math.abs(o.fit!.value / 2 - 1)).toBeLessThan(1e-3);
    expect(o.fit!.note).toMatch(/stops decaying/);
    expect(o.fit!.window[1]).toBeLessThan(16);
  });

  it('a non-monotone relaxation (a slower mode takes over after a dip): fitted after its last peak, or refused if too short', () => {
    // q = e^{−20t} + 0.05(e^{−t/2} − e^{−3t}): falls to 0.027 at t = 0.25, rises to 0.029 at t = 0.75, then decays at 1/2.
    const q = (s: number): number => Math.exp(-20 * s) + 0.05 * (Math.exp(-0.5 * s) - Math.exp(-3 * s));
    const t = times(40, 0.25);
    const o = fitRate(t, t.map(q), { floor: 1e-14 });
    expect(Math.abs(o.fit!.value / 0.5 - 1)).toBeLessThan(1e-3);
    const short = times(1, 0.25);
    const r = fitRate(short, short.map(q), { floor: 1e-14 });
    expect(r.fit).toBeNull();
    expect(r.reason).toMatch(/not monotone.*too few/);
  });

  it.each([
    ['a constant (round-off) plateau', (s: number) => 1e-14 + 0 * s, /plateau/],
    ['a plateau drifting at 4e-14 per unit time (r² = 1)', (s: number) => 1e-14 * Math.exp(-4e-14 * s), /plateau/],
    ['a growing series', (s: number) => 1e-3 * Math.exp(0.2 * s), /grows/],
    ['a series that is no exponential (r² < 0.99)', (s: number) => 1 + 0.5 * Math.sin(3 * s) + 0.1 * Math.cos(11 * s), /r² = /],
  ])('%s: no rate, with the reason', (_name, g, why) => {
    const t = times(10, 0.25);
    const o = fitRate(t, t.map(g), { floor: 1e-300 });
    expect(o.fit).toBeNull();
    expect(o.reason).toMatch(why);
  });

  it('the report says why each null rate is null', () => {
    const series = times(3, 1).map((t) => ({ t, chi2: 1e-30, kl: 1e-30, meanLoss: 1 + Math.exp(-t) }));
    const r = reportRates(series, { collapsing: false, meanLossPi: 1 });
    expect(r.rates.chi).toBeNull();
    expect(r.refusals.chi).toMatch(/round-off floor/);
    expect(r.rates.meanLoss).not.toBeNull();
    expect(r.notes.some((n) => n.startsWith('rates.kl: no rate:'))).toBe(true);
  });
});

describe('rates of runs against eigenvalues of the generator', () => {
  it('double-well-1d: the mean-loss rate is λ₂ of the generator (Sturm bisection) or refused, never the oscillation', async () => {
    // E f is even and ρ₀ is in one well, so E f − E_π f relaxes at λ₂ (the first even mode), not λ₁.
    const lambda2 = sturmEigenvalue(setUp(loadBundled('double-well-1d')).op, 2);
    expect(lambda2).toBeGreaterThan(1);
    // TR-BDF2 by name: the oscillation is its pattern (auto gives these 20 intervals to the exponential integrator).
    const { report } = await runBundled('double-well-1d', ['time.end=100', 'time.integrator=trbdf2']);
    const ml = report.rates.meanLoss;
    if (ml !== null) expect(Math.abs(ml.value / lambda2 - 1)).toBeLessThan(0.02);
    else expect(report.rateRefusals?.meanLoss).toMatch(/changes sign/);
    // Report times 1 apart, steps resolved (tolerance 1e-9): the fit lands on λ₂.
    const fine = await runBundled('double-well-1d', ['time.end=25', 'time.reportEvery=1', 'time.tolerance=1e-9']);
    expect(Math.abs(fine.report.rates.meanLoss!.value / lambda2 - 1)).toBeLessThan(0.015);
    // Default tolerance: steps of 1 do not resolve e^{−λ₂t}; the rate is off and says so.
    const coarse = await runBundled('double-well-1d', ['time.end=25', 'time.reportEvery=1', 'time.integrator=trbdf2']);
    const c = coarse.report.rates.meanLoss!;
    if (Math.abs(c.value / lambda2 - 1) > 0.015) expect(c.note).toMatch(/may not resolve/);
  });

  it('pearson-1d run into the KL round-off plateau: KL rate 2λ₁ (docs/oracles.md §1 Pearson: gap 2b = 1)', async () => {
    const { report } = await runBundled('pearson-1d', ['domain.cells=[500]', 'time.end=40', 'time.reportEvery=0.5']);
    const lambda1 = sturmEigenvalue(setUp(loadBundled('pearson-1d', ['domain.cells=[500]'])).op, 1);
    expect(Math.abs(lambda1 - 1)).toBeLessThan(0.01);
    const kl = report.rates.kl!;
    expect(Math.abs(kl.value / (2 * lambda1) - 1)).toBeLessThan(0.01);
    expect(Math.abs(report.rates.chi!.value / lambda1 - 1)).toBeLessThan(0.01);
  });
});
