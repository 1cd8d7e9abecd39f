/**
 * The bad inputs of the core issue §2, through the CLI as a user runs it: each gives a one-line
 * error naming the file and the field, exit code 2, and no stack trace.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fpsolve } from './helpers/cli.js';

const good = `name: t
landscape: { expr: "c + b*x^2", params: { c: 0.1, b: 0.5 } }
domain: { bounds: [[-3, 3]], cells: [50] }
noise: { model: multiplicative, eta: 0.1, sigma: 10 }
initial: { gaussian: { mean: [1], std: [0.2] } }
time: { end: 0.1, reportEvery: 0.05 }
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fpsolve-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const cases: { name: string; file: string; text?: string; set?: string[]; field: RegExp; what: RegExp }[] = [
  { name: 'missing field', file: 'missing.yaml', text: good.replace(/^noise:.*\n/m, ''), field: /noise/, what: /required|missing/i },
  { name: 'wrong type', file: 'type.yaml', text: good.replace('cells: [50]', 'cells: "many"'), field: /domain\.cells/, what: /array|list/i },
  { name: 'eta ≤ 0', file: 'eta.yaml', text: good, set: ['noise.eta=-1'], field: /noise\.eta/, what: /> ?0|positive|greater/i },
  { name: 'cells < 2', file: 'cells.yaml', text: good.replace('cells: [50]', 'cells: [1]'), field: /domain\.cells/, what: /2/ },
  { name: 'bounds reversed', file: 'bounds.yaml', text: good.replace('[[-3, 3]]', '[[3, -3]]'), field: /domain\.bounds/, what: /lo|less|reversed|</i },
  { name: 'unknown variable', file: 'var.yaml', text: good.replace('c + b*x^2', 'c + b*q^2'), field: /landscape\.expr/, what: /q/ },
  { name: 'unknown function', file: 'fn.yaml', text: good.replace('c + b*x^2', 'c + foo(x)'), field: /landscape\.expr/, what: /foo/ },
  { name: 'f < 0 on the grid', file: 'neg.yaml', text: good.replace(/^landscape:.*$/m, 'landscape: { expr: "x" }'), field: /landscape/, what: /≥ 0|>= 0|negative/ },
  { name: 'f not finite on the grid', file: 'inf.yaml', text: good.replace(/^landscape:.*$/m, 'landscape: { expr: "sqrt(x) + 1" }'), field: /landscape/, what: /finite/ },
  { name: 'malformed YAML', file: 'bad.yaml', text: 'name: [unclosed\nlandscape: {', field: /bad\.yaml/, what: /YAML|line/i },
  { name: 'malformed JSON', file: 'bad.json', text: '{"name": "t",, }', field: /bad\.json/, what: /JSON|line|position/i },
];

describe('bad scenario input → one-line error, exit 2', () => {
  it.each(cases)('$name', ({ file, text, set, field, what }) => {
    const p = write(file, text ?? good);
    for (const cmd of ['validate', 'run']) {
      const r = fpsolve([cmd, p, ...(set ?? []).flatMap((s) => ['--set', s])]);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(p);
      expect(lines[0]).toMatch(field);
      expect(lines[0]).toMatch(what);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('missing file', () => {
    const r = fpsolve(['run', join(dir, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.yaml');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('unknown option and bad --set are usage errors with exit 2', () => {
    const p = write('ok.yaml', good);
    expect(fpsolve(['run', p, '--bogus']).code).toBe(2);
    const r = fpsolve(['run', p, '--set', 'noeq']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--set|noeq/);
  });

  it('a valid scenario validates and runs with exit 0', () => {
    const p = write('ok2.yaml', good);
    const v = fpsolve(['validate', p]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/ok/);
    const r = fpsolve(['run', p, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.status).toBe('ok');
    expect(Math.abs(report.final.mass - 1)).toBeLessThan(1e-12);
  });
});
