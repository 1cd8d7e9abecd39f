/**
 * Red team of issue #18 through the CLI: values that are finite but overflow the scheme's lattice
 * units (D/h², ∇f/h) were an "internal error" with exit 70; they are input out of range (exit 2, one
 * line naming the file and field). A noise that vanishes where the drift does not cross splits the
 * chain: the steady state is not unique, said as such (was exit 3, "cell 11 has no outflow … not
 * irreducible").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fpsolve } from './helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fpsolve-red18-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, landscape: string, bounds: string, cells: string, D: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
landscape: ${landscape}
domain: { bounds: ${bounds}, cells: ${cells} }
noise: { model: matrix, D: ${D} }
initial: { uniform: {} }
time: { end: 0.1, reportEvery: 0.1 }
`,
  );
  return file;
}

const oneLine = (s: string): void => {
  expect(s.trim().split('\n')).toHaveLength(1);
  expect(s).not.toMatch(/\bat .*\.js:\d+/);
  expect(s).not.toMatch(/internal error/);
};

describe('overflow in lattice units', () => {
  it('D = 1e308 (finite, but D/h² is not): validate and run exit 2 naming noise.D', () => {
    const file = scenario('big-d', '{ expr: "(x^2 + y^2)/2" }', '[[-2, 2], [-2, 2]]', '[8, 8]', '[[1e308, 0], [0, 1e308]]');
    for (const cmd of ['validate', 'run']) {
      const r = fpsolve([cmd, file, ...(cmd === 'run' ? ['--out', join(dir, 'o1')] : [])]);
      expect(r.code, r.stderr).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toContain("big-d.yaml: field 'noise.D'");
      expect(r.stderr).toContain('1.7e308·h_i·h_j');
    }
  });

  it('a gradient whose ∂f/h overflows: run exits 2 naming the noise field and the drift', () => {
    // ∂x f = 1e305, h_x = 1.25e-4: ∂x f / h_x = 8e308 overflows, while f ≤ 1e302 is finite.
    const file = scenario('big-drift', '{ expr: "1e305*x + y^2" }', '[[-0.001, 0.001], [-1, 1]]', '[16, 4]', '[[1, 0], [0, 1]]');
    const r = fpsolve(['run', file, '--out', join(dir, 'o2')]);
    expect(r.code, r.stderr).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain("big-drift.yaml: field 'noise'");
    expect(r.stderr).toContain('∂_0f = 1e+305');
  });
});

describe('a chain that splits', () => {
  it('Hessian noise on a double well: no unique steady state, exit 2 naming the two invariant halves', () => {
    // f = (x² − 1)² + 0.1: f'' = 12x² − 4 < 0 for |x| < 1/√3, where H₊ = 0 and D = 0, while −f' points
    // away from 0 there; the halves x < 0 and x > 0 are each invariant for the SDE, so every mixture of
    // their steady states is a steady state.
    const file = join(dir, 'dw.yaml');
    writeFileSync(
      file,
      `name: dw
landscape: { expr: "(x^2 - 1)^2 + 0.1" }
domain: { bounds: [[-2, 2]], cells: [32] }
noise: { model: hessian, eta: 0.1, sigma: 2, scale: loss }
initial: { gaussian: { mean: [0.9], std: [0.2] } }
time: { end: 0.5, reportEvery: 0.5 }
`,
    );
    const r = fpsolve(['run', file, '--out', join(dir, 'o3')]);
    expect(r.code, r.stderr).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain("dw.yaml: field 'noise.model': the steady state is not unique");
    expect(r.stderr).toContain('2 closed classes');
    const spans = [...r.stderr.matchAll(/from x = \((-?[\d.]+)\) to \((-?[\d.]+)\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(spans).toHaveLength(2);
    // One class on each side of the concave band |x| < 1/√3, each reaching its wall.
    const edge = 1 / Math.sqrt(3);
    expect(spans[0]![0]).toBeLessThan(-1.8);
    expect(spans[0]![1]).toBeLessThan(-edge + 0.125);
    expect(spans[1]![0]).toBeGreaterThan(edge - 0.125);
    expect(spans[1]![1]).toBeGreaterThan(1.8);
  });
});

describe('memory', () => {
  it('--max-memory is honoured by a diffusion-matrix run (it was ignored), before any allocation', () => {
    const file = scenario('mem', '{ expr: "(x^2 + 3*y^2)/2" }', '[[-2, 2], [-2, 2]]', '[16, 16]', '[[0.15, 0.08], [0.08, 0.1]]');
    const r = fpsolve(['run', file, '--max-memory', '100M', '--out', join(dir, 'o4')]);
    expect(r.code, r.stderr).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain("mem.yaml: field 'domain.cells'");
    expect(r.stderr).toContain('over the memory limit of 100 MiB (--max-memory 100M)');
    // A grid whose arrays cannot fit (10⁹ cells) is refused under the default limit instead of failing an allocation.
    const big = fpsolve(['run', file, '--set', 'domain.cells=[40000, 25000]', '--max-memory', '8G']);
    expect(big.code, big.stderr).toBe(2);
    oneLine(big.stderr);
    expect(big.stderr).toContain('over the memory limit of 8.00 GiB');
    // Enough memory: the run goes through.
    expect(fpsolve(['run', file, '--max-memory', '2G', '--no-gap']).code).toBe(0);
  });
});
