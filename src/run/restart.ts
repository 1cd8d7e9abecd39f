/**
 * Restart checkpoints (issue #20.3, docs/outputs.md "Checkpoints"): at report times the run
 * writes into <out>/checkpoint the density (.npy), the snapshots taken so far, and state.json
 * holding the time, the integrator's state (step counters, the adaptive step proposal), the
 * series so far, the resolved scenario and its hash. A resumed run starts from them on the same
 * steps as an uninterrupted one, so it ends on the same bits.
 *
 * Crash safety: each file is written atomically under a name carrying the report index, then
 * state.json (atomically) names them with their SHA-256, then older files go. Whatever moment a
 * run is killed, state.json names files that exist and match it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { decodeNpy, encodeNpy, npyByteBound } from '../io/npy.js';
import { readLimited, readLimitedText } from '../io/read-limited.js';
import { packageVersion } from '../paths.js';
import { canonicalJson } from '../sweep/key.js';
import type { SeriesPoint } from '../diagnostics/distances.js';
import type { LoadedScenario, Scenario } from '../scenario/types.js';
import type { IntegratorStateJson, RestartState, Snapshot, Tracker, TrackerContext } from './types.js';

export const CHECKPOINT_DIR = 'checkpoint';
export const STATE_FILE = 'state.json';
const FORMAT = 'fpsolve-checkpoint';
const VERSION = 1;

export function scenarioHash(s: Scenario): string {
  return createHash('sha256').update(canonicalJson(s)).digest('hex');
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** JSON has no NaN or ±Infinity; series points may hold them (kl of a state with empty cells). */
const encodeNumber = (_k: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? { nonFinite: String(v) } : v);
function decodeNumbers(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeNumbers);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'nonFinite' && typeof o.nonFinite === 'string') return Number(o.nonFinite);
    return Object.fromEntries(keys.map((k) => [k, decodeNumbers(o[k])]));
  }
  return v;
}

interface StateJson {
  format: string;
  version: number;
  fpsolve: string;
  t: number;
  index: number;
  scenarioFile: string;
  baseDir: string;
  scenario: Scenario;
  scenarioHash: string;
  backend: string;
  integrator: IntegratorStateJson;
  series: unknown[];
  wallSeconds: number;
  density: { file: string; sha256: string; cells: number };
  snapshots: { file: string; sha256: string; times: number[] } | null;
}

export interface CheckpointWriterOptions {
  dir: string;
  loaded: LoadedScenario;
  backend: string;
  /** Snapshots taken so far (kept in the checkpoint so a resumed run's figures are whole). */
  snapshots: () => readonly Snapshot[];
  /** Wall seconds of this run so far plus those before a resume. */
  wallSeconds: () => number;
}

/** What a checkpoint holds, taken at a report time (or the start). */
interface CheckpointData {
  t: number;
  /** The report index (names the files). */
  index: number;
  rho: Float64Array;
  shape: number[];
  integrator: IntegratorStateJson;
  series: readonly SeriesPoint[];
  snapshots: readonly Snapshot[];
}

const dataAt = (ctx: TrackerContext, snapshots: readonly Snapshot[]): CheckpointData => ({
  t: ctx.t,
  index: ctx.series.length - 1,
  rho: ctx.rho,
  shape: ctx.setup.grid.n.slice(),
  integrator: ctx.integrator.saveState(),
  series: ctx.series,
  snapshots,
});

/** The time of the last checkpoint written into a directory by this run (shared by the periodic and the stop writer). */
export interface CheckpointLog {
  lastT: number | undefined;
}

/** Writes a restart checkpoint at every report time (or every `interval` of simulated time). */
export class CheckpointTracker implements Tracker {
  readonly name = 'checkpoints';
  readonly interval?: number;
  private readonly o: CheckpointWriterOptions;
  private readonly hash: string;
  private readonly log: CheckpointLog;

  constructor(o: CheckpointWriterOptions, interval?: number, log: CheckpointLog = { lastT: undefined }) {
    this.o = o;
    this.hash = scenarioHash(o.loaded.scenario);
    this.log = log;
    if (interval !== undefined) this.interval = interval;
  }

  report(ctx: TrackerContext): void {
    writeCheckpoint(this.o, this.hash, dataAt(ctx, this.o.snapshots()));
    this.log.lastT = ctx.t;
  }
}

/**
 * The restart point of a run that stops early (issue #20.3, docs/outputs.md "Checkpoints and
 * restart"): keeps in memory a copy of the state at the start and at every report time (ρ, the
 * integrator's counters and step proposal, how many series points and snapshots there were) and,
 * when the run stops early, writes it as a checkpoint. A stop inside a report interval rolls back
 * to the last report time: the integrator's step sequence from there is the uninterrupted run's,
 * whereas continuing from the stop point would start an interval at a time that run never
 * started one at, and so take other steps. The cost is one copy of ρ per report time, no disk.
 */
export class StopCheckpoint implements Tracker {
  readonly name = 'stop-checkpoint';
  private readonly o: CheckpointWriterOptions;
  private readonly hash: string;
  private readonly log: CheckpointLog;
  private rho: Float64Array | undefined;
  private kept: Omit<CheckpointData, 'rho' | 'series' | 'snapshots'> & { points: number; snaps: number } | undefined;
  private series: readonly SeriesPoint[] = [];

  constructor(o: CheckpointWriterOptions, log: CheckpointLog = { lastT: undefined }) {
    this.o = o;
    this.hash = scenarioHash(o.loaded.scenario);
    this.log = log;
  }

  start(ctx: TrackerContext): void {
    this.keep(ctx);
  }

  report(ctx: TrackerContext): void {
    this.keep(ctx);
  }

  private keep(ctx: TrackerContext): void {
    if (!this.rho || this.rho.length !== ctx.rho.length) this.rho = new Float64Array(ctx.rho.length);
    this.rho.set(ctx.rho);
    this.series = ctx.series;
    this.kept = { t: ctx.t, index: ctx.series.length - 1, shape: ctx.setup.grid.n.slice(), integrator: ctx.integrator.saveState(), points: ctx.series.length, snaps: this.o.snapshots().length };
  }

  /** The time of the kept state (undefined before the run started). */
  get t(): number | undefined {
    return this.kept?.t;
  }

  /**
   * Writes the kept state as the checkpoint, unless the periodic writer already wrote that time.
   * @returns the checkpoint's time, or undefined when there was nothing to keep.
   */
  write(): number | undefined {
    const k = this.kept;
    if (!k || !this.rho) return undefined;
    if (this.log.lastT !== k.t) {
      const { points, snaps, ...rest } = k;
      writeCheckpoint(this.o, this.hash, { ...rest, rho: this.rho, series: this.series.slice(0, points), snapshots: this.o.snapshots().slice(0, snaps) });
      this.log.lastT = k.t;
    }
    return k.t;
  }
}

function writeCheckpoint(o: CheckpointWriterOptions, hash: string, d: CheckpointData): void {
  const { index } = d;
  const density = encodeNpy(d.rho, d.shape);
  const densityFile = `density-${index}.npy`;
  writeFileAtomic(join(o.dir, densityFile), density);
  const snaps = d.snapshots;
  let snapshots: StateJson['snapshots'] = null;
  if (snaps.length > 0) {
    const all = new Float64Array(snaps.length * d.rho.length);
    snaps.forEach((s, k) => all.set(s.density, k * d.rho.length));
    const bytes = encodeNpy(all, [snaps.length, d.rho.length]);
    const file = `snapshots-${index}.npy`;
    writeFileAtomic(join(o.dir, file), bytes);
    snapshots = { file, sha256: sha256(bytes), times: snaps.map((s) => s.t) };
  }
  const state: StateJson = {
    format: FORMAT,
    version: VERSION,
    fpsolve: packageVersion(),
    t: d.t,
    index,
    scenarioFile: o.loaded.file,
    baseDir: o.loaded.baseDir,
    scenario: o.loaded.scenario,
    scenarioHash: hash,
    backend: o.backend,
    integrator: d.integrator,
    series: [...d.series],
    wallSeconds: o.wallSeconds(),
    density: { file: densityFile, sha256: sha256(density), cells: d.rho.length },
    snapshots,
  };
  writeFileAtomic(join(o.dir, STATE_FILE), JSON.stringify(state, encodeNumber, 1) + '\n');
  // Only now are the older files unreferenced; removing them is tidying, not needed for safety.
  for (const name of readdirSync(o.dir)) {
    if (/^(density|snapshots)-\d+\.npy$/.test(name) && name !== densityFile && name !== snapshots?.file) rmSync(join(o.dir, name), { force: true });
  }
}

/**
 * Removes the checkpoint files (ours only: state.json, density-k.npy, snapshots-k.npy) from `cdir`,
 * then the folder if that left it empty. state.json goes first, so a kill midway leaves no checkpoint rather than a broken one.
 */
export function clearCheckpoint(cdir: string): void {
  if (!existsSync(join(cdir, STATE_FILE))) return;
  rmSync(join(cdir, STATE_FILE), { force: true });
  for (const name of readdirSync(cdir)) if (/^(density|snapshots)-\d+\.npy$/.test(name)) rmSync(join(cdir, name), { force: true });
  if (readdirSync(cdir).length === 0) rmSync(cdir, { recursive: true, force: true });
}

/** A checkpoint as read: the scenario it recorded and the state to continue from. */
export interface LoadedCheckpoint {
  loaded: LoadedScenario;
  state: RestartState;
  hash: string;
}

/** The run directory of a checkpoint given either as the run's --out or as its checkpoint/ folder. */
export function runDirOf(dir: string): string {
  return existsSync(join(dir, STATE_FILE)) && basename(resolve(dir)) === CHECKPOINT_DIR ? dirname(resolve(dir)) : dir;
}

/**
 * Reads <dir>/checkpoint (or `dir` itself when it holds state.json).
 * @throws InputError (exit 2) naming the file when it is missing, unreadable, inconsistent or from another format.
 */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  const cdir = existsSync(join(dir, STATE_FILE)) ? dir : join(dir, CHECKPOINT_DIR);
  const file = join(cdir, STATE_FILE);
  if (!existsSync(file)) {
    const why = !existsSync(dir)
      ? 'no such directory'
      : !statSync(dir).isDirectory()
        ? "not a directory: give the run's --out directory"
        : 'a run writes one when it stops early (signal, --max-wall, --stop-after) or with --checkpoints; a finished or failed run leaves none';
    throw new InputError(`no checkpoint to resume from (${why})`, { file });
  }
  const bad = (what: string, f = file): never => {
    throw new InputError(`corrupt checkpoint: ${what}`, { file: f });
  };
  let raw: unknown;
  try {
    raw = JSON.parse(readLimitedText(file, { maxBytes: 256 * 1024 * 1024, what: 'checkpoint state' }));
  } catch (e) {
    if (e instanceof InputError) throw e;
    return bad(`not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const s = raw as Partial<StateJson>;
  if (!s || typeof s !== 'object' || s.format !== FORMAT) return bad(`not an fpsolve checkpoint (format must be "${FORMAT}")`);
  if (s.version !== VERSION) return bad(`checkpoint version ${String(s.version)}, this fpsolve reads version ${VERSION}`);
  const num = (v: unknown, name: string): number => (typeof v === 'number' && Number.isFinite(v) ? v : bad(`${name} must be a finite number`));
  const t = num(s.t, 't');
  if (!s.scenario || typeof s.scenario !== 'object') return bad('scenario missing');
  if (typeof s.scenarioHash !== 'string' || scenarioHash(s.scenario) !== s.scenarioHash) return bad('the recorded scenario does not match its hash (edited by hand?)');
  // Before 0 or past time.end no report time is left to plan the steps from (t = end is a finished run).
  const end = (s.scenario as Partial<Scenario>).time?.end;
  if (!(t >= 0) || typeof end !== 'number' || t > end) return bad(`t = ${t} is outside [0, time.end = ${String(end)}]`);
  if (typeof s.backend !== 'string' || !s.integrator || typeof s.integrator !== 'object' || Array.isArray(s.integrator)) return bad('backend or integrator state missing');
  // A step proposal of 0 never grows (the resumed run spins forever); a negative one fails as a
  // numerical fault that blames the solver. Saved proposals are positive numbers or null.
  for (const key of ['dtNext', 'tauNext', 'fallbackDtNext']) {
    const v = s.integrator[key];
    if (v !== undefined && v !== null && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) return bad(`integrator.${key} must be a positive number or null`);
  }
  if (!Array.isArray(s.series) || s.series.length === 0) return bad('series missing');
  const series = decodeNumbers(s.series) as SeriesPoint[];
  if (series.some((p) => !p || typeof p !== 'object' || typeof p.t !== 'number') || series[series.length - 1].t !== t) return bad('series does not end at the checkpoint time');
  if (!s.density || typeof s.density.file !== 'string' || !/^density-\d+\.npy$/.test(s.density.file)) return bad('density file missing');
  const cells = num(s.density.cells, 'density.cells');
  const readNpyChecked = (name: string, hash: unknown, n: number): Float64Array => {
    const f = join(cdir, name);
    if (!existsSync(f) || !statSync(f).isFile()) return bad('file missing', f);
    const bytes = readLimited(f, { maxBytes: npyByteBound(n), what: 'checkpoint array' });
    if (sha256(bytes) !== hash) return bad(`does not match ${STATE_FILE} (SHA-256 differs)`, f);
    // Checkpoints are written as float64: another dtype would be widened to other bits than the run's.
    if (!/'descr':\s*'<f8'/.test(new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 256))))) return bad('not a float64 (<f8) array', f);
    const a = decodeNpy(bytes, f).data;
    if (a.length !== n) return bad(`holds ${a.length} values, ${STATE_FILE} says ${n}`, f);
    // A checkpoint is taken from a healthy state: a NaN/Inf is damage, not a numerical fault to report.
    if (!a.every(Number.isFinite)) return bad('holds non-finite values', f);
    return a;
  };
  const density = readNpyChecked(s.density.file, s.density.sha256, cells);
  const snapshots: Snapshot[] = [];
  if (s.snapshots) {
    const times = s.snapshots.times;
    if (!Array.isArray(times) || typeof s.snapshots.file !== 'string' || !/^snapshots-\d+\.npy$/.test(s.snapshots.file)) return bad('snapshots malformed');
    const all = readNpyChecked(s.snapshots.file, s.snapshots.sha256, times.length * cells);
    times.forEach((tk, k) => snapshots.push({ t: num(tk, 'snapshots.times'), density: all.slice(k * cells, (k + 1) * cells) }));
  }
  const loaded: LoadedScenario = { scenario: s.scenario, file: typeof s.scenarioFile === 'string' ? s.scenarioFile : '<checkpoint>', baseDir: typeof s.baseDir === 'string' ? s.baseDir : cdir };
  const state: RestartState = {
    t,
    density,
    series,
    integrator: s.integrator,
    snapshots,
    wallSeconds: typeof s.wallSeconds === 'number' ? s.wallSeconds : 0,
    backend: s.backend,
    file,
  };
  return { loaded, state, hash: s.scenarioHash };
}

/** The first fields (dotted paths) where two scenarios differ, for the resume refusal. */
export function scenarioDifferences(a: unknown, b: unknown, path = '', out: string[] = []): string[] {
  if (out.length >= 3) return out;
  if (canonicalJson(a) === canonicalJson(b)) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort()) scenarioDifferences(ao[k], bo[k], path ? `${path}.${k}` : k, out);
    return out;
  }
  const show = (v: unknown): string => (v === undefined ? '(absent)' : (JSON.stringify(v) ?? String(v)).slice(0, 60));
  out.push(`${path || '(scenario)'}: checkpoint ${show(a)}, given ${show(b)}`);
  return out;
}
