/**
 * The study behind the default `time.tolerance` (docs/performance.md, "Default tolerance"): every
 * bundled scenario and the 2-D reference problem (bench/reference-2d.yaml, at 128²) run with
 * `time.integrator: auto` at each candidate tolerance and at a tight one, and every reported
 * quantity is compared: each distance (L1, KL, χ², E f, mass below δ) at every report time, the
 * fitted rates (χ, KL, mean loss) and the final density (L1 between the two). The default is the
 * loosest candidate whose every difference is within the stated accuracy (STATED below).
 *
 *   npx tsc -p tsconfig.json && node dist/test/bench/tolerance-study.js [--json out.json] [candidates…]
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario } from '../../src/run/run.js';
import type { RunReport } from '../../src/report/types.js';

/**
 * The accuracy report.json's numbers are stated to have against time-integration error
 * (docs/outputs.md): relative, except where the quantity is already at round-off.
 */
export const STATED = {
  /**
   * Each distance at each report time, relative to its tight value; E f relative to its distance
   * to E_π f, or to MEAN_LOSS_FLOOR × E_π f where it crosses E_π f; the mass below δ relative to
   * itself or MASS_FLOOR, whichever is larger.
   */
  distance: 1e-2,
  /** Each fitted rate, relative. */
  rate: 1e-3,
  /** ‖ρ − ρ_tight‖₁ of the final density, as a fraction of the mass. */
  finalL1: 1e-3,
} as const;

/** Distances below this are round-off of the diagnostics (a χ² of 1e-14 is a deviation of 1e-7). */
const DISTANCE_FLOOR = 1e-12;

/** Mass fractions (mass below δ) are stated to this absolute accuracy × STATED.distance when smaller. */
const MASS_FLOOR = 1e-4;

/** E f − E_π f changes sign in the double wells: near the crossing its error is stated relative to E_π f. */
const MEAN_LOSS_FLOOR = 1e-4;

export const TIGHT = 1e-9;

export interface StudyRow {
  scenario: string;
  integrator: string;
  tolerance: number;
  /** Largest relative difference of any distance at any report time, and which. */
  distance: number;
  distanceWhere: string;
  /** Largest relative difference of a rate both runs fitted. */
  rate: number;
  rateWhere: string;
  /**
   * Rates one run fitted and the other did not. Not part of the criterion: a fit is accepted by
   * thresholds (r² ≥ 0.99, local slopes agreeing to 1 %) that any perturbation can cross; such
   * flips occur between tolerances 1e-6 and 1e-9 already (double-well-1d's mean-loss rate).
   */
  rateFlips: string[];
  finalL1: number;
  linearSolves: number;
  linearIterations: number;
  wallSeconds: number;
}

const DISTANCES = ['l1', 'kl', 'chi2', 'meanLoss', 'massBelowDelta'] as const;
const RATES = ['chi', 'kl', 'meanLoss'] as const;

export function compareReports(a: RunReport, tight: RunReport, rhoA: Float64Array, rhoT: Float64Array): Pick<StudyRow, 'distance' | 'distanceWhere' | 'rate' | 'rateWhere' | 'rateFlips' | 'finalL1'> {
  let distance = 0;
  let distanceWhere = '';
  tight.series.forEach((pt, k) => {
    const p = a.series[k];
    for (const q of DISTANCES) {
      const want = pt[q];
      const got = p?.[q];
      if (typeof want !== 'number' || typeof got !== 'number') continue;
      // meanLoss is compared as its distance to E_π f, which is what decays.
      const eq = tight.equilibrium.meanLoss;
      const ref = q === 'meanLoss' ? Math.max(Math.abs(want - eq), MEAN_LOSS_FLOOR * Math.abs(eq)) : q === 'massBelowDelta' ? Math.max(Math.abs(want), MASS_FLOOR) : Math.abs(want);
      if (ref < DISTANCE_FLOOR) continue;
      const d = Math.abs(got - want) / ref;
      if (d > distance) {
        distance = d;
        distanceWhere = `${q} at t = ${pt.t}`;
      }
    }
  });
  let rate = 0;
  let rateWhere = '';
  const rateFlips: string[] = [];
  for (const q of RATES) {
    const want = tight.rates[q]?.value;
    const got = a.rates[q]?.value;
    if (want === undefined && got === undefined) continue;
    if (want === undefined || got === undefined) {
      rateFlips.push(q);
      continue;
    }
    const d = Math.abs(got - want) / Math.abs(want);
    if (d > rate) {
      rate = d;
      rateWhere = q;
    }
  }
  let finalL1 = 0;
  let mass = 0;
  for (let i = 0; i < rhoT.length; i++) {
    finalL1 += Math.abs(rhoA[i] - rhoT[i]);
    mass += rhoT[i];
  }
  return { distance, distanceWhere, rate, rateWhere, rateFlips, finalL1: finalL1 / mass };
}

/** A scenario file of the study and the overrides it runs with (label: how the table names the variant). */
export interface StudyCase {
  file: string;
  set?: string[];
  label?: string;
}

/**
 * The bundled scenarios, the reference problem at 128², and runs with at most 40 report intervals
 * that `auto` gives the exponential integrator where the bundled files run TR-BDF2 (they have 60,
 * 100 and 200): pearson-1d as the sweep benchmark runs it (t = 16, reports every 1),
 * double-well-1d with reports every 25, and ou-2d with reports every 0.15.
 */
export function scenarioFiles(): StudyCase[] {
  const dir = join(packageRoot(), 'scenarios');
  return [
    ...readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => ({ file: join(dir, f) })),
    { file: join(packageRoot(), 'bench', 'reference-2d.yaml'), set: ['domain.cells=[128,128]'] },
    { file: join(dir, 'pearson-1d.yaml'), set: ['time.end=16', 'time.reportEvery=1'], label: 'pearson-1d (t = 16, reports every 1)' },
    { file: join(dir, 'double-well-1d.yaml'), set: ['time.reportEvery=25'], label: 'double-well-1d (reports every 25)' },
    // Long after the start, where E f − E_π f (even, decaying at twice the slowest rate) is a small part of the deviation.
    { file: join(dir, 'ou-2d.yaml'), set: ['time.reportEvery=0.15'], label: 'ou-2d (reports every 0.15: 40 intervals)' },
  ];
}

export async function study(candidates: number[], cases: (StudyCase | string)[] = scenarioFiles()): Promise<StudyRow[]> {
  const rows: StudyRow[] = [];
  for (const c of cases) {
    const { file, set = [], label } = typeof c === 'string' ? { file: c } : c;
    const run = (tol: number) => runScenario(loadScenario(file, [...set, `time.tolerance=${tol}`]), { gap: false });
    const tight = await run(TIGHT);
    for (const tol of candidates) {
      const r = await run(tol);
      const i = r.report.integrator;
      rows.push({ scenario: label ?? r.report.scenario.name, integrator: i.name, tolerance: tol, ...compareReports(r.report, tight.report, r.density, tight.density), linearSolves: i.linearSolves, linearIterations: i.linearIterations, wallSeconds: r.report.wallSeconds });
      const last = rows[rows.length - 1];
      process.stderr.write(`${last.scenario} ${last.integrator} ${tol}: distance ${last.distance.toExponential(2)} (${last.distanceWhere}), rate ${last.rate.toExponential(2)} (${last.rateWhere}), ${last.rateFlips.length ? `fit flips ${last.rateFlips.join(',')}, ` : ''}final L1 ${last.finalL1.toExponential(2)}, ${last.linearSolves} solves, ${last.linearIterations} its\n`);
    }
  }
  return rows;
}

/** The loosest candidate whose every row is within STATED. */
export function loosestWithin(rows: StudyRow[]): number | undefined {
  const tols = [...new Set(rows.map((r) => r.tolerance))].sort((a, b) => b - a);
  return tols.find((t) => rows.filter((r) => r.tolerance === t).every((r) => r.distance <= STATED.distance && r.rate <= STATED.rate && r.finalL1 <= STATED.finalL1));
}

if (process.argv[1]?.endsWith('tolerance-study.js')) {
  const args = process.argv.slice(2);
  const jsonAt = args.indexOf('--json');
  const jsonOut = jsonAt >= 0 ? args.splice(jsonAt, 2)[1] : undefined;
  const candidates = args.length ? args.map(Number) : [1e-2, 1e-3, 1e-4, 1e-5, 1e-6];
  const rows = await study(candidates);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(rows, null, 1));
  const fmt = (v: number): string => v.toExponential(1);
  console.log('| scenario | integrator | tolerance | distances (worst) | rates (worst) | fit flips | final ρ, L1 | solves | CG its |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.scenario} | ${r.integrator} | ${r.tolerance} | ${fmt(r.distance)} (${r.distanceWhere}) | ${r.rateWhere ? `${fmt(r.rate)} (${r.rateWhere})` : '—'} | ${r.rateFlips.join(', ') || '—'} | ${fmt(r.finalL1)} | ${r.linearSolves} | ${r.linearIterations} |`);
  console.log(`\nloosest within the stated accuracy: ${loosestWithin(rows) ?? 'none'}`);
}
