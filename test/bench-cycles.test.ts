/**
 * The measurements behind docs/architecture.md: the import-cycle counter of test/bench/cycles.ts (the
 * parser against import edges written out by hand for a small tree, Tarjan's components against
 * components found by brute-force reachability on random graphs) and the line counter of
 * test/bench/architecture.ts against lines classified by hand.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cycleReport, cycles, importGraph } from './bench/cycles.js';
import { countLines } from './bench/architecture.js';

const dir = mkdtempSync(join(tmpdir(), 'fpsolve-cycles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(rel: string, text: string): void {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), text);
}

describe('import graph of a small tree', () => {
  put('src/a.ts', "import { b } from './b.js';\nexport const a = b;\n");
  put('src/b.ts', "import {\n  a,\n} from './a.js';\nexport const b = 1;\n// import { z } from './e.js';\n/* import './f.js'; */\n");
  put('src/c.ts', "import type { D } from './d.js';\nexport interface C { d: D }\n");
  put('src/d.ts', "import { c } from './c.js';\nexport type D = number;\nexport const c = 1;\n");
  put('src/e.ts', "import { type F, f } from './f.js';\nexport type E = F;\nexport const e = f;\n");
  put('src/f.ts', "export type { E } from './e.js';\nexport type F = string;\nexport const f = 'x from \\'./a.js\\'';\n");
  put('solvers/x.ts', "export * from './k/y.js';\nexport const lazy = () => import('./k/z.js');\n");
  put('solvers/k/y.ts', "import '../x.js';\nexport const y = 1;\n");
  put('solvers/k/z.ts', "import { lazy } from '../x.js';\nexport const z = lazy;\n");
  put('src/g.d.ts', "import './a.js';\n");
  // a declaration without `from` must not swallow the import that follows it
  put('src/h.ts', "export interface H {\n  x: number\n}\nimport type { A } from './a.js';\n");

  it('finds each static import, tells type-only ones apart, skips comments, strings and dynamic imports', () => {
    const g = importGraph(dir);
    const edges = (m: Map<string, Set<string>>): string[] => [...m].flatMap(([v, ws]) => [...ws].map((w) => `${v} -> ${w}`)).sort();
    const runtime = [
      'solvers/k/y.ts -> solvers/x.ts',
      'solvers/k/z.ts -> solvers/x.ts',
      'solvers/x.ts -> solvers/k/y.ts',
      'src/a.ts -> src/b.ts',
      'src/b.ts -> src/a.ts',
      'src/d.ts -> src/c.ts',
      'src/e.ts -> src/f.ts',
    ];
    expect(edges(g.runtime)).toEqual(runtime);
    expect(edges(g.all)).toEqual([...runtime, 'src/c.ts -> src/d.ts', 'src/f.ts -> src/e.ts', 'src/h.ts -> src/a.ts'].sort());
    expect(g.runtime.has('src/g.d.ts')).toBe(false);
  });

  it('counts cycles at run time and with types, and folders that import each other', () => {
    const r = cycleReport(dir);
    expect(r.runtime).toEqual([['solvers/k/y.ts', 'solvers/x.ts'], ['src/a.ts', 'src/b.ts']]);
    expect(r.all).toEqual([['solvers/k/y.ts', 'solvers/x.ts'], ['src/a.ts', 'src/b.ts'], ['src/c.ts', 'src/d.ts'], ['src/e.ts', 'src/f.ts']]);
    expect(r.mutualFolders).toEqual([['solvers', 'solvers/k']]);
  });
});

describe('strongly connected components', () => {
  it('match brute-force mutual reachability on random graphs', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + Math.floor(rand() * 12);
      const p = rand() * 0.3;
      const names = Array.from({ length: n }, (_, i) => `f${String(i).padStart(2, '0')}`);
      const g = new Map<string, Set<string>>(names.map((v) => [v, new Set<string>()]));
      for (const v of names) for (const w of names) if (v !== w && rand() < p) (g.get(v) as Set<string>).add(w);
      // reach[i][j]: j reachable from i (Floyd–Warshall closure)
      const reach = names.map((v) => names.map((w) => v === w || (g.get(v) as Set<string>).has(w)));
      for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (reach[i][k] && reach[k][j]) reach[i][j] = true;
      const seen = new Set<number>();
      const expected: string[][] = [];
      for (let i = 0; i < n; i++) {
        if (seen.has(i)) continue;
        const comp = names.filter((_, j) => reach[i][j] && reach[j][i]);
        names.forEach((_, j) => reach[i][j] && reach[j][i] && seen.add(j));
        if (comp.length > 1) expected.push(comp);
      }
      expected.sort((a, b) => b.length - a.length || a[0].localeCompare(b[0]));
      expect(cycles(g)).toEqual(expected);
    }
  });
});

describe('line counter', () => {
  it('counts all lines and code lines (not blank, not only comment) of .ts files, not .d.ts', () => {
    // code lines marked C, the rest blank or comment
    const text = [
      '/**', //
      ' * doc', //
      ' */', //
      'const a = 1; // C', //
      '', //
      '   // note', //
      '/* one */ const b = 2; // C', //
      '/* one-liner */', //
      'const c = `/* not a comment', // C (a template literal: counted as code, good enough)
      'x */`;', // C
      '/* open', //
      'still */ const d = 4; // C', //
    ].join('\n') + '\n';
    put('m/a.ts', text);
    put('m/sub/b.ts', 'export {};\n'); // C
    put('m/c.d.ts', 'declare const z: number;\n');
    put('m/readme.md', 'const no = 1;\n');
    expect(countLines(join(dir, 'm'))).toEqual({ files: 2, lines: 13, code: 6 });
  });
});
