/** A fitted exponential decay rate: q(t) ≈ C e^{−value·t} over `window`. */
export interface RateFit {
  value: number;
  window: [number, number];
  /** Coefficient of determination of the log-linear fit over the window. */
  r2: number;
  /** Number of report times in the window. */
  points: number;
  /** Set when the tail is too short or not clearly exponential. */
  note?: string;
}

/**
 * Fits −d ln q/dt over the tail where the decay is exponential: walking back from the last
 * usable point, the window grows while the local slopes agree with the tail slope within
 * `agreement` (relative). Points at or below `floor` (round-off territory) are dropped.
 */
export function fitTailRate(
  t: readonly number[],
  q: readonly (number | null)[],
  opts: { floor: number; agreement?: number; minPoints?: number } = { floor: 0 },
): RateFit | null {
  const agreement = opts.agreement ?? 0.01;
  const minPoints = opts.minPoints ?? 4;
  const ts: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < t.length; k++) {
    const v = q[k];
    if (v === null || !Number.isFinite(v) || v <= opts.floor) continue;
    // A series that reaches the floor and comes back up is noise; keep the part before it.
    if (ts.length > 0 && t[k] <= ts[ts.length - 1]) continue;
    ts.push(t[k]);
    ys.push(Math.log(v));
  }
  // Stop at the first point where the floor was hit: later points are round-off.
  const firstFloor = q.findIndex((v) => v !== null && Number.isFinite(v) && v <= opts.floor);
  if (firstFloor >= 0) {
    const tf = t[firstFloor];
    while (ts.length > 0 && ts[ts.length - 1] >= tf) {
      ts.pop();
      ys.pop();
    }
  }
  const n = ts.length;
  if (n < 3) return null;
  const slope = (a: number, b: number): number => -(ys[b] - ys[a]) / (ts[b] - ts[a]);
  const tailCount = Math.min(3, n - 1);
  const tail: number[] = [];
  for (let k = n - 1 - tailCount; k < n - 1; k++) tail.push(slope(k, k + 1));
  tail.sort((a, b) => a - b);
  const ref = tail[Math.floor(tail.length / 2)];
  let start = n - 1;
  while (start > 0 && Math.abs(slope(start - 1, start) - ref) <= agreement * Math.abs(ref) + 1e-14) start--;
  let note: string | undefined;
  if (n - start < minPoints) {
    start = Math.max(0, n - minPoints);
    note = `the decay is not yet exponential over ${minPoints} report times (local rates differ by more than ${agreement * 100}%): run longer for a reliable rate`;
  }
  const fit = linearFit(ts.slice(start), ys.slice(start));
  return { value: -fit.slope, window: [ts[start], ts[n - 1]], r2: fit.r2, points: n - start, ...(note ? { note } : {}) };
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
