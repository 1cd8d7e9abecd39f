/**
 * `fpsolve run` on a diffusion-matrix scenario through the built CLI (bin/fpsolve.js → dist/):
 * the outputs of docs/nonreversible.md, exit codes, the flags it refuses (exit 2, one line), and a
 * signal mid-run (exit 130, report kept), as for a reversible run (docs/reliability.md).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../src/io/npy.js';
import { ROOT, fpsolve, signalWhenStepping } from './helpers/cli.js';

const OU = join(ROOT, 'scenarios', 'anisotropic-ou.yaml');
const SMALL = ['--set', 'domain.cells=[32,32]', '--set', 'time.end=1', '--set', 'time.reportEvery=0.25'];
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fpsolve-nonrev-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fpsolve run with a diffusion matrix', () => {
  it('writes report.json, series.csv, density/steady/current .npy and the figures; exit 0', () => {
    const out = join(dir, 'ou');
    const r = fpsolve(['run', OU, ...SMALL, '--out', out, '--plots', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/steady state: /);
    expect(r.stdout).toMatch(/entropy production/);
    for (const f of ['report.json', 'series.csv', 'density.npy', 'steady.npy', 'current.npy', 'figures/steady-current.svg', 'figures/distances.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(existsSync(join(out, 'pi.npy'))).toBe(false);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Record<string, unknown> & {
      kind: string;
      status: string;
      series: { t: number; l1: number }[];
      steadyState: { residual: number; balance: number };
      nonReversible: { currentMax: number; entropyProduction: number };
      gap?: { re: number; im: number; value: number } | null;
    };
    expect(rep.kind).toBe('diffusion-matrix');
    expect(rep.status).toBe('ok');
    expect(rep).not.toHaveProperty('regime');
    expect(rep).not.toHaveProperty('basins');
    expect(rep.series.length).toBe(5);
    expect(rep.steadyState.balance).toBeLessThan(1e-8);
    expect(rep.nonReversible.entropyProduction).toBeGreaterThan(0);
    // The OU spectrum is {−Σ n_k μ_k(H)} (oracles.md §8): μ₁ = −min(k1, k2) = −1, real. Measured −0.964 at h = 1/8
    // (the discretization error; test/nonrev-scheme.test.ts shows it falls at second order).
    expect(rep.gap).toBeTruthy();
    expect(Math.abs((rep.gap?.re ?? 0) + 1)).toBeLessThan(0.05);
    expect(rep.gap?.im).toBe(0);
    expect(rep.gap?.value).toBe(-(rep.gap?.re ?? 0));
    // Steady state solved directly here (GTH on the band): balance at round-off.
    expect(rep.steadyState.balance).toBeLessThan(1e-13);
    const cur = readNpy(join(out, 'current.npy'));
    expect(cur.shape).toEqual([32, 32, 2]);
  }, 120_000);

  it('a flag a matrix run cannot honour is one line, exit 2, naming it', () => {
    const r = fpsolve(['run', OU, ...SMALL, '--out', join(dir, 'vti'), '--vti']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--vti is not available for diffusion-matrix noise/);
  }, 60_000);

  it('SIGINT mid-run → exit 130, report.json "interrupted" with the points so far, no gap', async () => {
    const out = join(dir, 'int');
    const r = await signalWhenStepping(['run', OU, '--set', 'domain.cells=[64,64]', '--set', 'time.end=1000', '--set', 'time.reportEvery=0.05', '--out', out], 'SIGINT');
    expect(r.sent, r.stderr).toBe(true);
    expect(r.sig).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/^fpsolve: interrupted: interrupted by a signal at t = /m);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { status: string; final: { t: number }; gap?: unknown };
    expect(rep.status).toBe('interrupted');
    expect(rep.final.t).toBeLessThan(1000);
    expect(rep.gap).toBeUndefined();
  }, 120_000);
});
