/**
 * Diffusion-matrix noise through the CLI as a user meets it: `validate` checks the bundled
 * scenarios (and `--set noise.model=hessian` turns the isotropic Feng–Tu scenario into one), a
 * matrix that is not PSD is one line and exit 2 naming the cell, and the reversible commands refuse
 * a matrix model naming themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fpsolve } from './helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fpsolve-noise-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const oneLine = (s: string): void => {
  expect(s.trim().split('\n')).toHaveLength(1);
  expect(s).not.toMatch(/\bat .*\.js:\d+/);
};

describe('matrix noise on the command line', () => {
  it('validate accepts the bundled matrix-noise scenarios and a --set switch to hessian noise', () => {
    const r = fpsolve(['validate', 'scenarios/anisotropic-ou.yaml', 'scenarios/feng-tu-hessian.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('anisotropic-ou.yaml: ok (128×128 cells, matrix noise');
    expect(r.stdout).toContain('feng-tu-hessian.yaml: ok (64×128 cells, Hessian noise');
    const s = fpsolve(['validate', 'scenarios/feng-tu-2d.yaml', '--set', 'noise.model=hessian']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('Hessian noise D = (ησ/2)·(f + 0)·H₊');
  });

  it('a D with a negative eigenvalue at one cell: exit 2, one line naming file, field, cell and eigenvalue', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `name: bad
landscape: { expr: "x^2 + y^2" }
domain: { bounds: [[0, 1], [0, 1]], cells: [10, 10] }
noise: { model: matrix, D: [[1, 0], [0, "(x - 0.55)^2 + (y - 0.55)^2 - 0.001"]] }
initial: { uniform: {} }
time: { end: 1, reportEvery: 0.5 }
`,
    );
    const r = fpsolve(['validate', file]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain(`${file}: field 'noise.D': D is not positive semi-definite at cell (5, 5), x = (0.55, 0.55): smallest eigenvalue -0.001 `);
  });

  it('gap and committor refuse a matrix model naming themselves (exit 2, one line)', () => {
    const g = fpsolve(['gap', 'scenarios/anisotropic-ou.yaml']);
    expect(g.code).toBe(2);
    oneLine(g.stderr);
    expect(g.stderr).toContain("scenarios/anisotropic-ou.yaml: field 'noise.model': the diffusion-matrix model 'matrix' is not supported by `fpsolve gap`");
    const c = fpsolve(['committor', 'scenarios/feng-tu-hessian.yaml', '--from', 'x<-0.5', '--to', 'x>0.5']);
    expect(c.code).toBe(2);
    oneLine(c.stderr);
    expect(c.stderr).toContain("the diffusion-matrix model 'hessian' is not supported by `fpsolve committor`");
  });
});
