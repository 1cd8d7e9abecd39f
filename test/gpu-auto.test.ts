/**
 * `--backend auto` decides from the recorded GPU benchmark (issue #22.4, solvers/backend/gpu-record.ts):
 * the GPU only where a hardware record shows it winning at matched accuracy for this dimension,
 * integrator and grid size, on the device the probe names now. The records are fixtures written
 * here into a temp dir; the probe is injected (no test touches a real GPU), and counted, so that a
 * CPU-only decision is seen not to probe at all.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../solvers/backend/cpu.js';
import { decideAuto, resolveBackend, type GpuProbe } from '../solvers/backend/select.js';
import { GPU_RECORD_ENV } from '../solvers/backend/gpu-record.js';
import { setupOf } from './gpu-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-gpu-auto-'));
let serial = 0;
function writeRecord(content: unknown): string {
  const file = join(dir, `record-${serial++}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const H100 = 'WebGPU (Dawn): nvidia hopper NVIDIA H100 80GB HBM3';
const A100 = 'WebGPU (Dawn): nvidia ampere NVIDIA A100-SXM4-40GB';

/** A device-check case from measured walls: a win is agreement and a shorter device wall, nothing else. */
function measured(n: number, dim: number, cpuWallS: number, deviceWallS: number, matched = true, integrator = 'exponential') {
  const speedup = cpuWallS / deviceWallS;
  return { label: `${n}${dim === 2 ? '²' : '³'}`, dim, cells: Array(dim).fill(n), size: n ** dim, integrator, status: 'ran', cpuWallS, deviceWallS, speedup, matched, win: matched && speedup > 1 };
}

/** The GPU slower at 512², faster from 1024² on (2-D, exponential), on an H100. */
const winsFrom1024 = (device = H100, hardware = true) => ({
  format: 'fpsolve-gpu-benchmark',
  version: 1,
  date: '2026-12-07T22:00:00Z',
  hardware,
  device,
  cases: [measured(512, 2, 6.1, 7.9), measured(1024, 2, 25.3, 8.4), measured(2048, 2, 104, 12.5), measured(128, 3, 40, 50)],
});

function probeOf(device: string, software = false): { probe: () => Promise<GpuProbe>; calls: () => number } {
  let n = 0;
  return {
    probe: async () => {
      n++;
      return { mode: 'webgpu', device, software, missing: [] };
    },
    calls: () => n,
  };
}

const grid = (n: number, dim = 2) => ({ grid: { size: n ** dim, dim } });

describe('--backend auto without a recorded win', () => {
  it('no record: float64 on the CPU, says so, and does not probe', async () => {
    const p = probeOf(H100);
    const d = await decideAuto(grid(1024), { integrator: 'exponential', benchmark: join(dir, 'absent.json'), probe: p.probe });
    expect(d.gpu).toBe(false);
    expect(d.reason).toMatch(/^auto: \S*absent\.json does not exist: no recorded GPU benchmark shows a win, so float64 on the CPU$/);
    expect(p.calls()).toBe(0);
  });

  it('no record, through resolveBackend on a real 512² operator: a CpuBackend in float64 with that reason', async () => {
    const { setup } = setupOf('double-well-2d', ['domain.cells=[512,512]']);
    const p = probeOf(H100);
    const r = await resolveBackend('auto', setup.op, { integrator: 'exponential', benchmark: join(dir, 'absent.json'), probe: p.probe });
    expect(r.backend).toBeInstanceOf(CpuBackend);
    expect(r.info.precision).toBe('float64');
    expect(r.reason).toContain('no recorded GPU benchmark shows a win, so float64 on the CPU');
    expect(p.calls()).toBe(0);
    r.backend.dispose();
  });

  it('a record made on a software renderer (or webasm) never counts as a win', async () => {
    const file = writeRecord(winsFrom1024('WebGPU (Dawn): llvmpipe (software)', false));
    const p = probeOf('WebGPU (Dawn): llvmpipe (software)');
    const d = await decideAuto(grid(2048), { integrator: 'exponential', benchmark: file, probe: p.probe });
    expect(d.gpu).toBe(false);
    expect(d.reason).toContain('not a hardware GPU');
    expect(p.calls()).toBe(0);
  });

  it('a record where the GPU never wins (slower, or faster without matched accuracy): CPU, naming the measured ratios', async () => {
    const rec = { ...winsFrom1024(), cases: [measured(512, 2, 6, 8), measured(1024, 2, 25, 5, false)] };
    const d = await decideAuto(grid(1024), { integrator: 'exponential', benchmark: writeRecord(rec), probe: probeOf(H100).probe });
    expect(d.gpu).toBe(false);
    expect(d.reason).toContain('0.750×');
    expect(d.reason).toContain('5.00×, accuracy not matched');
    expect(d.reason).toContain('show no win');
  });
});

describe('a record showing a win from 1024² on an H100', () => {
  const file = writeRecord(winsFrom1024());

  it('picks the GPU at 1024² and 2048² when the probe names the H100, and says why', async () => {
    for (const n of [1024, 2048, 1500]) {
      const p = probeOf(H100);
      const d = await decideAuto(grid(n), { integrator: 'exponential', benchmark: file, probe: p.probe });
      expect(d.gpu, d.reason).toBe(true);
      // 25.3 / 8.4: the smallest winning case's ratio, from the fixture's walls.
      expect(d.reason).toContain(`${(25.3 / 8.4).toPrecision(3)}× faster than float64 on the CPU at matched accuracy from 1024²`);
      expect(d.reason).toContain(H100);
      expect(p.calls()).toBe(1);
    }
  });

  it('stays on the CPU below 1024² (512² was measured slower, 1000² is below the smallest win)', async () => {
    for (const n of [512, 1000]) {
      const p = probeOf(H100);
      const d = await decideAuto(grid(n), { integrator: 'exponential', benchmark: file, probe: p.probe });
      expect(d.gpu).toBe(false);
      expect(d.reason).toContain(`${n * n} cells is below ${1024 * 1024} (1024²)`);
      expect(p.calls()).toBe(0);
    }
  });

  it('stays on the CPU on another GPU, or a software renderer, and names what it found', async () => {
    const other = await decideAuto(grid(2048), { integrator: 'exponential', benchmark: file, probe: probeOf(A100).probe });
    expect(other.gpu).toBe(false);
    expect(other.reason).toContain(`the GPU found here is ${A100}, not the one recorded, so float64 on the CPU`);
    const soft = await decideAuto(grid(2048), { integrator: 'exponential', benchmark: file, probe: probeOf(H100, true).probe });
    expect(soft.gpu).toBe(false);
    expect(soft.reason).toContain('software renderer');
  });

  it('stays on the CPU for another integrator or dimension than the recorded wins', async () => {
    const trbdf2 = await decideAuto(grid(2048), { integrator: 'trbdf2', benchmark: file, probe: probeOf(H100).probe });
    expect(trbdf2.gpu).toBe(false);
    expect(trbdf2.reason).toContain('no 2-D run with time.integrator trbdf2');
    // 128³ was measured, slower on the GPU: the 2-D wins do not carry over.
    const three = await decideAuto(grid(128, 3), { integrator: 'exponential', benchmark: file, probe: probeOf(H100).probe });
    expect(three.gpu).toBe(false);
    expect(three.reason).toContain('3-D exponential runs (128³: 0.800×) show no win');
  });

  it('reads the record named by FPSOLVE_GPU_BENCHMARK when no path is passed', async () => {
    const saved = process.env[GPU_RECORD_ENV];
    process.env[GPU_RECORD_ENV] = file;
    try {
      const d = await decideAuto(grid(1024), { integrator: 'exponential', probe: probeOf(H100).probe });
      expect(d.gpu).toBe(true);
    } finally {
      if (saved === undefined) delete process.env[GPU_RECORD_ENV];
      else process.env[GPU_RECORD_ENV] = saved;
    }
  });
});

describe('a malformed record: CPU with a reason, never a crash', () => {
  const bad: [string, unknown, RegExp][] = [
    ['not JSON', '{"format": "fpsolve-gpu-benchmark", ', /is unreadable \(/],
    ['another format', { ...winsFrom1024(), format: 'something-else' }, /malformed \(format is "something-else"/],
    ['a newer version', { ...winsFrom1024(), version: 2 }, /malformed \(version is 2/],
    ['cases not a list', { ...winsFrom1024(), cases: { a: 1 } }, /malformed \(field cases is not a list\)/],
    ['a case without a size', { ...winsFrom1024(), cases: [{ ...measured(1024, 2, 25, 8), size: 'big' }] }, /malformed \(cases\[0\]\.size/],
    ['a win without matched accuracy', { ...winsFrom1024(), cases: [{ ...measured(1024, 2, 25, 8, false), win: true }] }, /malformed \(cases\[0\] says win without matched accuracy/],
    ['a win slower than the CPU', { ...winsFrom1024(), cases: [{ ...measured(1024, 2, 5, 8), win: true }] }, /malformed \(cases\[0\] says win/],
    ['null', 'null', /malformed \(not a JSON object\)/],
  ];
  for (const [what, content, why] of bad) {
    it(what, async () => {
      const p = probeOf(H100);
      const d = await decideAuto(grid(2048), { integrator: 'exponential', benchmark: writeRecord(content), probe: p.probe });
      expect(d.gpu).toBe(false);
      expect(d.reason).toMatch(why);
      expect(d.reason).toMatch(/, so float64 on the CPU$/);
      expect(p.calls()).toBe(0);
    });
  }

});
