/**
 * Red team #22: `--max-memory` with a float32 device backend. The run's memory estimate (src/resources/
 * memory.ts) is what --max-memory is checked against; it counted the float64 CPU run only, so a
 * webasm run it accepted grew past it (measured 2026-12-07 at 384², double-well-2d, TR-BDF2: peak RSS
 * 226 MiB against an estimate of 201 MiB; 266 MiB with the device multigrid). The independent measure is the kernel's own count: the
 * child's peak resident set (getrusage maxRSS, reported from its exit hook), against the estimate
 * the CLI printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'fpsolve-red22-memory-'));
const hook = join(dir, 'rss.cjs');
writeFileSync(hook, "process.on('exit', () => process.stderr.write(`\\nred22-maxRSS-KiB ${process.resourceUsage().maxRSS}\\n`));\n");

describe('red22: --max-memory on the float32 webasm backend', () => {
  it('a run the estimate admits stays within the estimate (peak RSS by getrusage)', () => {
    const args = [join(ROOT, 'bin', 'fpsolve.js'), 'run', join(ROOT, 'scenarios', 'double-well-2d.yaml'), '-q', '--no-gap', '--backend', 'webasm',
      '--set', 'time.integrator=trbdf2', '--set', 'domain.cells=[384,384]', '--set', 'time.end=0.002', '--set', 'time.reportEvery=0.002'];
    // The estimate, from the refusal of a limit nothing fits in.
    const refused = spawnSync(process.execPath, [...args, '-o', join(dir, 'refused'), '--max-memory', '1MB'], { encoding: 'utf8', timeout: 60_000 });
    expect(refused.status).toBe(2);
    const est = /needs an estimated (\d+) MiB/.exec(refused.stderr);
    expect(est, refused.stderr).not.toBeNull();
    const estimateMiB = Number(est![1]);
    // The same run under exactly that limit: admitted, and its peak must not pass it.
    const r = spawnSync(process.execPath, ['-r', hook, ...args, '-o', join(dir, 'ran'), '--max-memory', `${estimateMiB}MiB`], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const peak = /red22-maxRSS-KiB (\d+)/.exec(r.stderr);
    expect(peak, r.stderr).not.toBeNull();
    const peakMiB = Number(peak![1]) / 1024;
    expect(peakMiB, `peak ${peakMiB.toFixed(0)} MiB, estimate ${estimateMiB} MiB`).toBeLessThanOrEqual(estimateMiB);
  });
});
