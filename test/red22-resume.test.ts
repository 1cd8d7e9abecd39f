/**
 * Red team #22: a refined float32 run (webasm; TR-BDF2 and the exponential integrator keep their state
 * in float64 on the host, solvers/backend/refine.ts) stopped at a report time and resumed must end on
 * the uninterrupted run's numbers, and on the CPU's to 1e-4. The uninterrupted run is the independent
 * opinion for the restart; the float64 CPU run for the arithmetic. Also: resuming on another backend
 * is refused in one line (exit 2), since its arithmetic would not give those numbers.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'fpsolve-red22-resume-'));
const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'fpsolve.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

interface Report { status: string; series: Record<string, number>[]; rates: Record<string, { value: number } | null> }
const report = (out: string): Report => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;

describe('red22: stop and resume of a refined webasm run', () => {
  for (const integrator of ['trbdf2', 'exponential']) {
    it(`ou-2d at 24², ${integrator}: --stop-after 0.5 then --resume ends on the uninterrupted numbers`, () => {
      const base = ['run', join(ROOT, 'scenarios', 'ou-2d.yaml'), '-q', '--no-gap', '--set', `time.integrator=${integrator}`, '--set', 'domain.cells=[24,24]', '--set', 'time.end=1'];
      const whole = join(dir, `${integrator}-whole`);
      const split = join(dir, `${integrator}-split`);
      const cpu = join(dir, `${integrator}-cpu`);
      expect(cli([...base, '--backend', 'webasm', '-o', whole]).status).toBe(0);
      expect(cli([...base, '--backend', 'cpu', '-o', cpu]).status).toBe(0);
      const stopped = cli([...base, '--backend', 'webasm', '-o', split, '--stop-after', '0.5']);
      expect(stopped.status, stopped.stderr).toBe(0);
      expect(report(split).status).toBe('incomplete');
      const other = cli(['run', '--resume', split, '-q', '--backend', 'cpu']);
      expect(other.status).toBe(2);
      expect(other.stderr.trim().split('\n')).toHaveLength(1);
      expect(other.stderr).toMatch(/pass --backend to match/);
      const resumed = cli(['run', '--resume', split, '-q', '--backend', 'webasm']);
      expect(resumed.status, resumed.stderr).toBe(0);
      const [a, b, c] = [report(whole), report(split), report(cpu)];
      expect(b.status).toBe('ok');
      expect(b.series.length).toBe(a.series.length);
      a.series.forEach((p, i) => {
        for (const k of ['l1', 'kl', 'chi2', 'meanLoss']) {
          expect(b.series[i][k], `${k} at t = ${p.t}`).toBe(p[k]);
          expect(Math.abs(p[k] - c.series[i][k]) / Math.abs(c.series[i][k]), `webasm vs cpu, ${k} at t = ${p.t}`).toBeLessThan(1e-4);
        }
      });
      for (const [k, v] of Object.entries(a.rates)) if (v) expect(b.rates[k]?.value).toBe(v.value);
    });
  }
});
