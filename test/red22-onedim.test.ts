/**
 * Red team #22: a 1-D scenario whose ψ leaves float32's range for √π (scenarios/neuron-1d.yaml, ψ up
 * to 2827). With refinement on, 1-D implicit steps never reach the device (solvers/backend/refine.ts:
 * state, stencils and tridiagonal solves in float64 on the host), yet `--backend webasm` refused
 * TR-BDF2 with "needs √π in float32" (exit 2) and `auto` fell back to RKL2, though the float64 CPU
 * run is the same arithmetic. The independent opinion is that CPU run: every report time's distances
 * and the fitted rates must agree to round-off.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'fpsolve-red22-onedim-'));

interface Report { integrator: { name: string; reason: string }; series: Record<string, number>[]; rates: Record<string, { value: number } | null> }
function run(backend: string, integrator: string): Report {
  const out = join(dir, `${backend}-${integrator}`);
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'fpsolve.js'), 'run', join(ROOT, 'scenarios', 'neuron-1d.yaml'), '-q', '--no-gap', '--backend', backend, '--set', `time.integrator=${integrator}`, '-o', out], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
}

describe('red22: 1-D implicit steps on a float32 backend do not need √π in float32', () => {
  for (const integrator of ['trbdf2', 'auto']) {
    it(`neuron-1d, time.integrator ${integrator}: webasm runs it, as the float64 CPU does, to round-off`, () => {
      const cpu = run('cpu', integrator);
      const dev = run('webasm', integrator);
      expect(dev.integrator.name).toBe(cpu.integrator.name);
      expect(dev.series.length).toBe(cpu.series.length);
      cpu.series.forEach((p, i) => {
        for (const k of ['l1', 'kl', 'chi2', 'meanLoss']) {
          const a = p[k];
          const b = dev.series[i][k];
          expect(Math.abs(b - a), `${k} at t = ${p.t}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(a)));
        }
      });
      for (const [k, v] of Object.entries(cpu.rates)) {
        if (v) expect(dev.rates[k]?.value, `rate ${k}`).toBeCloseTo(v.value, 10);
      }
    });
  }
});
