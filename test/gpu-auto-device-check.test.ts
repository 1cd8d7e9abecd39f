/**
 * The device check (bench/gpu-device.sh → test/bench/gpu-device.ts) run here, where there is no GPU:
 * without --software it refuses in one line (exit 3), a software renderer included; with --software
 * on a tiny grid (gpu.js webasm on the device side) it writes a record that `--backend auto` reads
 * as "not a hardware GPU", whose comparison numbers match what this test computes itself from the
 * two runs' density.npy and report.json files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../src/io/npy.js';
import { parseGpuRecord, type GpuRecordCase } from '../solvers/backend/gpu-record.js';
import { decideAuto } from '../solvers/backend/select.js';
import { ROOT } from './helpers/cli.js';

const DRIVER = join(ROOT, 'dist', 'test', 'bench', 'gpu-device.js');

function driver(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [DRIVER, ...args], { cwd: ROOT, env: { ...process.env, CI_SOFT_GPU: '', ...env }, encoding: 'utf8', timeout: 120_000 });
}

describe('bench/gpu-device.sh without a GPU', () => {
  it('refuses in one line with exit 3 when no hardware GPU is usable, writing nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-gpu-check-'));
    const r = driver(['--json', join(dir, 'r.json'), '--md', join(dir, 'r.md')]);
    expect(r.status).toBe(3);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('gpu-device:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^gpu-device: no hardware GPU is usable, so no device figures: /);
    expect(() => readFileSync(join(dir, 'r.json'))).toThrow();
  });

  it('--software on a tiny grid: a record auto ignores, with the comparison recomputed here', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-gpu-check-'));
    const json = join(dir, 'record.json');
    const work = join(dir, 'work');
    const r = driver(['--software', '--sizes', '24', '--sizes3d', '', '--json', json, '--md', join(dir, 'r.md'), '--work', work]);
    expect(r.status, r.stderr).toBe(0);
    const raw = JSON.parse(readFileSync(json, 'utf8')) as { hardware: boolean; deviceBackend: string; cases: (GpuRecordCase & { comparison: { densityL1: number; maxDistanceRel: number } })[] };
    expect(typeof parseGpuRecord(raw)).toBe('object');
    expect(raw.hardware).toBe(false);
    expect(raw.cases).toHaveLength(1);
    const c = raw.cases[0];
    expect(c.status).toBe('ran');
    // The densities' L1 distance and the distances' largest relative difference, from the files.
    const a = readNpy(join(work, '24²-cpu', 'density.npy')).data;
    const b = readNpy(join(work, `24²-${raw.deviceBackend}`, 'density.npy')).data;
    let l1 = 0;
    for (let i = 0; i < a.length; i++) l1 += Math.abs(a[i] - b[i]);
    l1 *= (4 / 24) ** 2;
    expect(c.comparison.densityL1).toBeCloseTo(l1, 12);
    // A float32 run is not bit-equal to float64, and agrees to far better than the problem's discretisation error.
    expect(l1).toBeGreaterThan(0);
    expect(l1).toBeLessThan(1e-3);
    expect(c.speedup).toBeCloseTo((c.cpuWallS as number) / (c.deviceWallS as number), 12);
    const d = await decideAuto({ grid: { size: 2048 ** 2, dim: 2 } }, { integrator: 'exponential', benchmark: json, probe: async () => ({ mode: 'webgpu', device: 'any', missing: [] }) });
    expect(d.gpu).toBe(false);
    expect(d.reason).toContain('not a hardware GPU');
    const md = readFileSync(join(dir, 'r.md'), 'utf8');
    expect(md).toContain('**No hardware GPU figure exists.**');
    expect(md).toMatch(/\| 24² \| [\d.]+ \| [\d.]+ \| [\d.]+× \|/);
  });
});
