/**
 * Red team #22: SIGTERM / SIGINT while a webasm run steps (the signal sent when the run says it is
 * stepping, not on a timer: test/helpers/cli.ts). The README's exit-code table promises 143 / 130 and
 * status "interrupted"; outputs are written atomically, so every file parses and no temporary file
 * (src/io/atomic.ts TEMP_SUFFIX) is left behind; the message is one line with no stack trace.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMP_SUFFIX } from '../src/io/atomic.js';
import { readNpy } from '../src/io/npy.js';
import { ROOT, signalWhenStepping } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-red22-signal-'));
const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));

describe('red22: signals during a webasm run', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: exit ${code}, report "interrupted", outputs whole, no temp files, one line`, async () => {
      const out = join(dir, signal);
      const r = await signalWhenStepping(['run', join(ROOT, 'scenarios', 'double-well-2d.yaml'), '--backend', 'webasm', '--set', 'time.integrator=trbdf2', '--set', 'domain.cells=[48,48]', '--no-gap', '-o', out], signal);
      expect(r.sent, r.stderr).toBe(true);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('fpsolve: interrupted'));
      expect(lines).toHaveLength(1);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { status: string; final: { mass: number } };
      expect(report.status).toBe('interrupted');
      expect(Math.abs(report.final.mass - 1)).toBeLessThan(1e-9);
      const files = walk(out);
      expect(files.filter((f) => f.endsWith(TEMP_SUFFIX))).toEqual([]);
      // The density written is whole: 48² values, all finite, ≥ 0 to round-off (TR-BDF2's float64 host
      // state dips to −2e-17 near the walls, as on the CPU), with mass 1.
      expect(existsSync(join(out, 'density.npy'))).toBe(true);
      const rho = readNpy(join(out, 'density.npy')).data;
      expect(rho.length).toBe(48 * 48);
      const max = rho.reduce((m, v) => Math.max(m, v), 0);
      for (const v of rho) expect(Number.isFinite(v) && v >= -1e-14 * max).toBe(true);
      expect(Math.abs(rho.reduce((s, v) => s + v, 0) * (4 / 48) ** 2 - 1)).toBeLessThan(1e-9);
    });
  }
});
