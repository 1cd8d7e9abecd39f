/**
 * Issue #15 item 5: the same scenario gives the same bits under any load. The run used to return
 * to the event loop every 100 ms of wall time and resume with a re-split plan, so a loaded machine
 * moved the last bits (KL rates −0.0115 / −0.0377 / 0.00083 against 0.020776 unloaded). Here each
 * integrator runs a 1-D and a 2-D scenario once, then again while two busy child processes compete
 * for the cores, and the SHA-256 of the density and of the series must match; one 2-D case goes
 * through the CLI and hashes density.npy and series.csv. Also #16 item 11: a step-size underflow
 * names a real dt, the time and the cell, checked against where the fault must be.
 */
import { InputError } from '../src/errors.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenarioText } from '../src/scenario/load.js';
import { runScenario } from '../src/run/run.js';
import { packageRoot } from '../src/paths.js';

const ROOT = packageRoot();
const BIN = join(ROOT, 'bin', 'fpsolve.js');

// Pearson diffusion (docs/oracles.md §1) in 1-D and the OU process (docs/oracles.md §3) in 2-D: smooth
// converging cases. Two report intervals each, so most steps lie inside one long interval,
// where the old loop paused by the clock.
const scenario1d = (time: string): string => `name: repro-1d
landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }
domain: { bounds: [[-5, 5]], cells: [300] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1], std: [0.3] } }
time: ${time}
`;
const scenario2d = (time: string): string => `name: repro-2d
landscape: { expr: "(k1*x^2 + k2*y^2)/2", params: { k1: 1, k2: 2 } }
domain: { bounds: [[-2, 2], [-2, 2]], cells: [40, 40] }
noise: { model: additive, D: 0.1 }
initial: { gaussian: { mean: [1, 0.5], std: [0.2, 0.2] } }
time: ${time}
`;

/** Each case takes ~50–150 ms of CPU here: many 100 ms slices of the old loop on a loaded machine. */
const cases: [string, string][] = [
  ['1-D explicit', scenario1d('{ end: 0.06, reportEvery: 0.03, integrator: explicit }')],
  ['1-D rkl2', scenario1d('{ end: 0.6, reportEvery: 0.3, integrator: rkl2, dt: 0.002 }')],
  ['1-D backward-euler', scenario1d('{ end: 1, reportEvery: 0.5, integrator: backward-euler, dt: 0.0005 }')],
  ['1-D trbdf2', scenario1d('{ end: 2, reportEvery: 1, integrator: trbdf2, tolerance: 1.0e-9 }')],
  ['1-D exponential', scenario1d('{ end: 2, reportEvery: 1, integrator: exponential, dt: 0.001, tolerance: 1.0e-9 }')],
  ['2-D explicit', scenario2d('{ end: 6, reportEvery: 3, integrator: explicit }')],
  ['2-D rkl2', scenario2d('{ end: 1, reportEvery: 0.5, integrator: rkl2, dt: 0.01 }')],
  ['2-D backward-euler', scenario2d('{ end: 0.4, reportEvery: 0.2, integrator: backward-euler, dt: 0.004 }')],
  ['2-D trbdf2', scenario2d('{ end: 1, reportEvery: 0.5, integrator: trbdf2, tolerance: 1.0e-5 }')],
  ['2-D exponential', scenario2d('{ end: 1, reportEvery: 0.5, integrator: exponential, dt: 0.001, tolerance: 1.0e-8 }')],
];

const sha = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

interface Digest {
  status: string;
  steps: number;
  density: string;
  series: string;
}

async function digest(text: string): Promise<Digest> {
  const { report, density } = await runScenario(parseScenarioText(text, 'repro.yaml'), { gap: false });
  return {
    status: report.status,
    steps: report.steps,
    density: sha(new Uint8Array(density.buffer, density.byteOffset, density.byteLength)),
    // JSON prints every double so that it reads back to the same bits.
    series: sha(JSON.stringify(report.series)),
  };
}

let dir: string;
const cli = (out: string): void => {
  const r = spawnSync(process.execPath, [BIN, 'run', join(dir, 'cli.yaml'), '--no-gap', '-q', '--out', out], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
};
const files = (out: string): string[] => ['density.npy', 'series.csv'].map((f) => sha(readFileSync(join(out, f))));

describe('the same scenario gives the same bits on a loaded machine (every integrator, 1-D and 2-D)', () => {
  const reference = new Map<string, Digest>();
  const busy: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('build first: npx tsc -p . (the CLI case runs dist/)');
    dir = mkdtempSync(join(tmpdir(), 'fps-repro-'));
    writeFileSync(join(dir, 'cli.yaml'), scenario2d('{ end: 0.5, reportEvery: 0.25, tolerance: 1.0e-5 }'));
    for (const [name, text] of cases) reference.set(name, await digest(text));
    cli(join(dir, 'quiet'));
    // Two spinning processes on top of whatever else runs: the run now gets a fraction of a core.
    for (let k = 0; k < 2; k++) busy.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 300));
  }, 120_000);

  afterAll(() => {
    for (const c of busy) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name] of cases) {
    it(name, async () => {
      expect(busy.every((c) => c.exitCode === null)).toBe(true);
      const ref = reference.get(name)!;
      expect(ref.status).toBe('ok');
      expect(ref.steps).toBeGreaterThan(5);
      expect(await digest(cases.find(([n]) => n === name)![1])).toEqual(ref);
    }, 60_000);
  }

  it('through the CLI: density.npy and series.csv have the same SHA-256', () => {
    cli(join(dir, 'loaded'));
    expect(files(join(dir, 'loaded'))).toEqual(files(join(dir, 'quiet')));
  }, 120_000);
});

describe('a step-size underflow names the real dt, the time and the cell', () => {
  it('a tolerance below round-off: the largest local error sits on the moving density (the initial Gaussian)', async () => {
    // Pearson, 1-D direct solves: at tolerance 1e-17 no step can pass, whatever its size.
    // The scenario schema now refuses tolerances below 1e-14 (exit 2); the integrator's own message is
    // still what a failing step reports, so the tolerance is set on the parsed scenario here.
    const loaded = parseScenarioText(scenario1d('{ end: 0.1, reportEvery: 0.1, integrator: trbdf2, tolerance: 1.0e-14 }'), 'uf.yaml');
    loaded.scenario.time.tolerance = 1e-17;
    const { report } = await runScenario(loaded, { gap: false });
    expect(report.status).toBe('failed');
    const m = /adaptive step size underflow by step (\d+), t = (\S+) \(.*the last attempt had dt = (\S+), error ratio (\S+) at tolerance 1e-17\): the local error estimate is largest, \S+, in cell (\d+) at x = \((\S+)\)/.exec(report.error ?? '');
    expect(m, report.error).not.toBeNull();
    const [, , t, dt, ratio, cell, x] = m!;
    expect(Number(t)).toBe(0);
    expect(Number(dt)).toBeGreaterThan(0);
    expect(Number(dt)).toBeLessThan(1e-14);
    expect(Number(ratio)).toBeGreaterThan(1);
    // Cell centres of the 300-cell grid on [−5, 5]; the Gaussian starts at 1 with std 0.3.
    expect(Number(x)).toBeCloseTo(-5 + (Number(cell) + 0.5) * (10 / 300), 4);
    expect(Math.abs(Number(x) - 1)).toBeLessThan(3 * 0.3);
    expect(report.error).toMatch(/raise time\.tolerance/);
    expect(report.error).not.toMatch(/NaN/);
  });

  it('an operator that overflowed: the cell where f/D leaves float64 is named, not dt = NaN', async () => {
    // Additive noise: ψ = f/D, and 1e306·x²/1e-3 overflows for |x| > ~0.42, so A·ρ is NaN there
    // and the first step size used to come out NaN.
    const text = `name: overflow
landscape: { expr: "a*x^2 + c", params: { a: 1.0e306, c: 1 } }
domain: { bounds: [[-10, 10]], cells: [50] }
noise: { model: additive, D: 0.001 }
initial: { gaussian: { mean: [0], std: [1] } }
time: { end: 0.1, reportEvery: 0.1, integrator: trbdf2 }
`;
    // Such an operator is now refused at set-up (src/landscape/check.ts: exit 2, before any step),
    // naming a cell where f/D leaves float64 instead of failing with a step size.
    const err = await runScenario(parseScenarioText(text, 'overflow.yaml'), { gap: false }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as InputError).message;
    expect(msg).not.toMatch(/NaN/);
    expect((err as InputError).field).toBe('landscape');
    const m = /near x = \((\S+)\)/.exec(msg);
    expect(m, msg).not.toBeNull();
    const x = Number(m![1]);
    expect(Number.isFinite((1e306 * x * x + 1) / 0.001)).toBe(false);
  });
});
