/** A fitted exponential decay rate: q(t) ≈ C e^{−value·t} over `window`. */
export interface RateFit {
  value: number;
  window: [number, number];
  /** Coefficient of determination of the log-linear fit over the window. */
  r2: number;
  /** Number of report times in the window. */
  points: number;
  /** Set when the tail is too short or not clearly exponential, or when points were left out (and why). */
  note?: string;
}

/** A rate, or why there is none: never both null. */
export type RateOutcome = { fit: RateFit; reason: null } | { fit: null; reason: string };

export interface RateOptions {
  /** |q| at or below this is round-off: the series is cut at the first such point. */
  floor: number;
  /** Relative agreement of the local slopes that makes a window exponential (default 1%). */
  agreement?: number;
  minPoints?: number;
  /**
   * q is a signed error (e.g. E f − E_π f): the rate is that of |q|, and sign changes are
   * examined rather than hidden by the absolute value.
   */
  signed?: boolean;
  /** Below this r² the log-linear fit is not reported as a rate (default 0.99). */
  minR2?: number;
  /** Below this total log-decay over the window, value·(t₁ − t₀), the series is a plateau (default 1e-3). */
  minDecay?: number;
  /** Name of the series in reasons, e.g. "sqrt(χ²)". */
  label?: string;
}

/**
 * Points closer than this factor to a detected error level (a plateau's ripple, an alternating
 * error) are left out: their local slopes carry that error at more than 1%.
 */
const NOISE_MARGIN = 100;
/**
 * A rise after the series' smallest value counts as round-off when it is below this fraction of
 * the series' largest value (a Pearson run's KL rises by 3e-15 after falling from 7: 4e-16).
 */
const ROUNDOFF_RISE = 1e-6;

const fmtT = (v: number): string => String(+v.toPrecision(6));
const fmtV = (v: number): string => v.toExponential(2);

/**
 * Fits −d ln|q|/dt over the tail where the decay is exponential, or says why there is no rate.
 *
 * What is never reported as a rate (issue #15 item 6): a fit with r² below `minR2`, a negative
 * rate, a plateau (round-off: a constant series has r² = 1 and rate ≈ 0), and the tail of a
 * signed error that alternates in sign (the relaxation of a reversible process is a sum of
 * decaying real exponentials and does not alternate from one report time to the next; an
 * integrator error does, and |q| then decays at the error's rate, not the relaxation's).
 *
 * Steps: cut at the round-off floor; for a signed q, cut at the first of two or more sign
 * changes (or start after a single crossing); keep the decay from the largest |q| down to the
 * smallest, and if |q| rises after its smallest value, that rise is an error level and points
 * within NOISE_MARGIN of it are dropped too; then, walking back from the last point, the window
 * grows while the local slopes agree with the tail slope within `agreement` (relative).
 */
export function fitRate(t: readonly number[], q: readonly (number | null)[], opts: RateOptions): RateOutcome {
  const agreement = opts.agreement ?? 0.01;
  const minPoints = opts.minPoints ?? 4;
  const minR2 = opts.minR2 ?? 0.99;
  const minDecay = opts.minDecay ?? 1e-3;
  const label = opts.label ?? 'the series';
  const refuse = (reason: string): RateOutcome => ({ fit: null, reason });

  // Usable points: finite, increasing t, up to the first point at or below the floor (later ones are round-off).
  const ts: number[] = [];
  const vs: number[] = [];
  let floorAt: number | null = null;
  for (let k = 0; k < t.length; k++) {
    const v = q[k];
    if (v === null || !Number.isFinite(v)) continue;
    if (Math.abs(v) <= opts.floor) {
      floorAt = t[k];
      break;
    }
    if (ts.length > 0 && t[k] <= ts[ts.length - 1]) continue;
    ts.push(t[k]);
    vs.push(v);
  }
  const tooFew = (n: number, after: string): RateOutcome =>
    refuse(`${n} report time(s) ${after}: too few to fit a rate (report more often, time.reportEvery, or run longer)`);
  if (ts.length < 3) {
    return tooFew(ts.length, floorAt !== null ? `above the round-off floor ${fmtV(opts.floor)} (reached at t = ${fmtT(floorAt)})` : 'where it is finite');
  }

  const notes: string[] = [];
  let lo = 0;
  let hi = ts.length; // exclusive
  let errorLevel = 0;
  let why = '';
  if (opts.signed) {
    const changes: number[] = [];
    for (let k = 1; k < vs.length; k++) if (Math.sign(vs[k]) !== Math.sign(vs[k - 1])) changes.push(k);
    if (changes.length >= 2) {
      const c = changes[0];
      for (let k = c; k < vs.length; k++) errorLevel = Math.max(errorLevel, Math.abs(vs[k]));
      hi = c;
      why =
        `${label} changes sign ${changes.length} times from t = ${fmtT(ts[c])} on (|value| up to ${fmtV(errorLevel)}): an alternating error ` +
        '(e.g. the integrator\'s), not relaxation, which is a sum of decaying exponentials and does not alternate';
    } else if (changes.length === 1) {
      lo = changes[0];
      notes.push(`${label} changes sign once, at t = ${fmtT(ts[lo])}: fitted after the crossing`);
    }
  }
  // The decay runs from the largest |q| to the smallest. A rise after the smallest that is tiny
  // next to the largest is round-off (or the solver's error); a larger one is a non-monotone
  // relaxation, and only the decay after its last peak can give the rate.
  const abs = vs.map(Math.abs);
  let iMax = lo;
  for (let k = lo; k < hi; k++) if (abs[k] > abs[iMax]) iMax = k;
  let iMin = iMax;
  for (let k = iMax; k < hi; k++) if (abs[k] < abs[iMin]) iMin = k;
  const hiBefore = hi;
  let rising = '';
  if (iMin < hi - 1) {
    let jTop = iMin;
    for (let k = iMin; k < hi; k++) if (abs[k] > abs[jTop]) jTop = k;
    const rise = abs[jTop] - abs[iMin];
    if (rise <= ROUNDOFF_RISE * abs[iMax]) {
      const plateau =
        `${label} stops decaying at t = ${fmtT(ts[iMin])} (${fmtV(abs[iMin])}) and rises by ${fmtV(rise)} by t = ${fmtT(ts[hi - 1])}: ` +
        'a plateau at round-off or at the solver\'s error, not a decay';
      if (rise > errorLevel) errorLevel = rise;
      why = why ? `${why}; ${plateau}` : plateau;
      hi = iMin + 1;
    } else {
      rising = `${label} is not monotone: it falls to ${fmtV(abs[iMin])} at t = ${fmtT(ts[iMin])}, then rises to ${fmtV(abs[jTop])} at t = ${fmtT(ts[jTop])} (a slower mode taking over, or the solver's error)`;
      iMax = jTop;
    }
  }
  if (iMin - iMax + 1 < 3 && !rising) {
    // Too little decay to fit: say what the series does instead.
    let top = 0;
    let bottom = Infinity;
    for (let k = lo; k < ts.length; k++) {
      top = Math.max(top, abs[k]);
      bottom = Math.min(bottom, abs[k]);
    }
    const span = `t ∈ [${fmtT(ts[lo])}, ${fmtT(ts[ts.length - 1])}]`;
    if (Math.log(top / bottom) < minDecay) {
      return refuse(`${label} changes by only ${((top / bottom - 1) * 100).toPrecision(2)}% over ${span} (less than ${minDecay * 100}%): a plateau, not a measurable decay`);
    }
    if (iMax >= hiBefore - 2) return refuse(`${label} grows over ${span} (its largest value is at t = ${fmtT(ts[iMax])}): not a decay`);
  }
  lo = iMax;
  if (rising) {
    if (hi - lo < minPoints) return refuse(`${rising}; after that peak, ${hi - lo} report time(s): too few to fit a rate (run longer)`);
    notes.push(`${rising}; fitted after t = ${fmtT(ts[lo])}`);
  }
  if (errorLevel > 0) {
    let end = lo;
    while (end < hi && abs[end] > NOISE_MARGIN * errorLevel) end++;
    const dropped = hi - end;
    hi = end;
    if (hi - lo < minPoints) {
      return refuse(`${why}; before that, ${hi - lo} report time(s) lie above ${NOISE_MARGIN}× that error level: too few to fit a rate (report more often, time.reportEvery, or lower time.tolerance)`);
    }
    notes.push(`${why}; fitted on t ≤ ${fmtT(ts[hi - 1])}${dropped > 0 ? `, where ${label} is above ${NOISE_MARGIN}× that error level` : ''}`);
  } else if (hi - lo < 3) {
    return tooFew(hi - lo, 'in the decaying part of the series');
  }

  const ws = ts.slice(lo, hi);
  const ys = abs.slice(lo, hi).map(Math.log);
  const n = ws.length;
  const slope = (a: number, b: number): number => -(ys[b] - ys[a]) / (ws[b] - ws[a]);
  // The exponential window ending at `end`: back from it while the local slopes agree with the median of its last three.
  const windowStart = (end: number): number => {
    const tailCount = Math.min(3, end);
    const tail: number[] = [];
    for (let k = end - tailCount; k < end; k++) tail.push(slope(k, k + 1));
    tail.sort((a, b) => a - b);
    const ref = tail[Math.floor(tail.length / 2)];
    let start = end;
    while (start > 0 && Math.abs(slope(start - 1, start) - ref) <= agreement * Math.abs(ref) + 1e-14) start--;
    return start;
  };
  let last = n - 1;
  let start = windowStart(last);
  if (errorLevel > 0) {
    // The points nearest the error level carry it most: take the latest clean window before them.
    for (let e = n - 1; e >= minPoints - 1 && last - start + 1 < minPoints; e--) {
      last = e;
      start = windowStart(e);
    }
    if (last - start + 1 < minPoints) {
      last = n - 1;
      start = windowStart(last);
    } else if (last < n - 1) notes.push(`the last ${n - 1 - last} point(s) before that left out: their local rates differ by more than ${agreement * 100}%`);
  }
  if (last - start + 1 < minPoints) {
    start = Math.max(0, last + 1 - minPoints);
    notes.push(`the decay is not yet exponential over ${minPoints} report times (local rates differ by more than ${agreement * 100}%): run longer for a reliable rate`);
  }
  const fit = linearFit(ws.slice(start, last + 1), ys.slice(start, last + 1));
  const value = -fit.slope;
  const window: [number, number] = [ws[start], ws[last]];
  const span = `t ∈ [${fmtT(window[0])}, ${fmtT(window[1])}]`;
  const decay = value * (window[1] - window[0]);
  const context = notes.length ? ` (${notes.join('; ')})` : '';
  if (Math.abs(decay) < minDecay) {
    return refuse(`${label} changes by only ${(Math.abs(decay) * 100).toPrecision(2)}% over ${span} (less than ${minDecay * 100}%): a plateau, not a measurable decay${context}`);
  }
  if (value < 0) return refuse(`${label} grows over ${span} (fitted rate ${value.toPrecision(3)}): not a decay${context}`);
  if (fit.r2 < minR2) {
    return refuse(`the log-linear fit over ${span} has r² = ${fit.r2.toFixed(4)} < ${minR2}: ${label} is not an exponential decay there${context}`);
  }
  return { fit: { value, window, r2: fit.r2, points: last - start + 1, ...(notes.length ? { note: notes.join('; ') } : {}) }, reason: null };
}

/** fitRate without the reason: the fit, or null. */
export function fitTailRate(t: readonly number[], q: readonly (number | null)[], opts: RateOptions = { floor: 0 }): RateFit | null {
  return fitRate(t, q, opts).fit;
}

export function linearFit(x: readonly number[], y: readonly number[]): { slope: number; intercept: number; r2: number } {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1;
  return { slope, intercept: my - slope * mx, r2 };
}

export type RateName = 'chi' | 'kl' | 'meanLoss';

/** The three rates of a run report, each with its reason when there is none. */
export interface ReportRates {
  rates: Record<RateName, RateFit | null>;
  /** Why each null rate is null (only those). */
  refusals: Partial<Record<RateName, string>>;
  /** One note per refused or qualified rate, for report.notes. */
  notes: string[];
}

/** Round-off floors of the series (see fitRate). */
const CHI_FLOOR = 1e-11;
/**
 * KL = Σ ρ ln(ρ/π)|K| is a sum of O(1) terms that cancel to first order: its round-off is ~1e-15
 * (a Pearson run plateaus at 1e-15..4e-15), so points below 1e-13 carry more than 1% of it.
 */
const KL_FLOOR = 1e-13;

/**
 * A time-stepping integrator decays a mode of rate λ at −ln R(λ dt)/dt, not λ: TR-BDF2 is off by
 * ≈ 4.5% at λ·dt = 1 (double-well-1d, reportEvery 1: E f − E_π f fitted at 1.094 for λ₂ = 1.039)
 * and 0.8% at λ·dt = 0.5; backward Euler by ≈ λ·dt/2. Above this λ·dt the fit carries a note.
 */
const RESOLVED_RATE_DT = 0.3;

/**
 * Fits the report's rates from the series: sqrt(χ²), KL, and the mean loss (E f − E_π f, signed,
 * when π is integrable; E f itself when collapsing). `stepping`: the integrator's name and
 * largest step, to flag rates that the steps do not resolve (the exponential integrator is
 * exact in time and is not flagged).
 */
export function reportRates(
  series: readonly { t: number; chi2: number | null; kl: number; meanLoss: number }[],
  opts: { collapsing: boolean; meanLossPi: number; stepping?: { integrator: string; dtMax: number | null } },
): ReportRates {
  const ts = series.map((p) => p.t);
  const { collapsing, meanLossPi } = opts;
  const out: Record<RateName, RateOutcome> = {
    chi: fitRate(ts, series.map((p) => (p.chi2 === null ? null : Math.sqrt(p.chi2))), { floor: CHI_FLOOR, label: 'sqrt(χ²)' }),
    kl: fitRate(ts, series.map((p) => p.kl), { floor: KL_FLOOR, label: 'KL' }),
    meanLoss: collapsing
      ? fitRate(ts, series.map((p) => p.meanLoss), { floor: 1e-300, label: 'E[f]' })
      : fitRate(ts, series.map((p) => p.meanLoss - meanLossPi), { floor: 1e-11 * Math.max(Math.abs(meanLossPi), 1e-300), signed: true, label: 'E[f] − E_π[f]' }),
  };
  const rates = { chi: out.chi.fit, kl: out.kl.fit, meanLoss: out.meanLoss.fit };
  const refusals: Partial<Record<RateName, string>> = {};
  const notes: string[] = [];
  for (const name of ['chi', 'kl', 'meanLoss'] as const) {
    const o = out[name];
    if (o.fit === null) {
      refusals[name] = o.reason;
      notes.push(`rates.${name}: no rate: ${o.reason}.`);
    } else {
      const st = opts.stepping;
      if (st && st.dtMax !== null && st.integrator !== 'exponential' && o.fit.value * st.dtMax > RESOLVED_RATE_DT) {
        const z = o.fit.value * st.dtMax;
        const more = `the rate × the largest step (${st.integrator}, dt = ${st.dtMax.toPrecision(3)}) is ${z.toPrecision(2)} > ${RESOLVED_RATE_DT}: the steps may not resolve a decay this fast, which biases the rate (lower time.tolerance or time.reportEvery, or use integrator exponential)`;
        o.fit.note = o.fit.note ? `${o.fit.note}; ${more}` : more;
      }
      if (o.fit.note) notes.push(`rates.${name}: ${o.fit.note}`);
    }
  }
  return { rates, refusals, notes };
}
