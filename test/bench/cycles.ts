/**
 * File-level import cycles among the TypeScript sources (src/, solvers/, bin/), counted twice: over the
 * imports that exist at run time, and over all imports including `import type` / `export type` (which
 * the compiler erases, so they cannot break module loading but still tie the files together).
 * A cycle is a strongly connected component of more than one file (Tarjan). Also lists pairs of
 * folders that import each other at run time. Dynamic `import()` is not counted: it loads lazily.
 *
 *   node dist/test/bench/cycles.js [DIR]      (DIR defaults to the checkout)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../src/paths.js';

export interface ImportGraph {
  /** file (relative, '/'-separated) → files it imports at run time */
  runtime: Map<string, Set<string>>;
  /** the same with type-only imports added */
  all: Map<string, Set<string>>;
}

const ROOTS = ['src', 'solvers', 'bin'];

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
}

const toPosix = (p: string): string => p.split(sep).join('/');

/**
 * Static imports and re-exports with a relative specifier. A statement is type-only when it reads
 * `import type …` / `export type …`; `import { type A, B }` still loads the module.
 */
const STATIC = /(?:^|[;\n])\s*(import|export)\s+(type\s+)?(?:(?:(?!\n\s*(?:import|export)\b)[^'";])*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/g;

export function parseImports(source: string): { spec: string; typeOnly: boolean }[] {
  const out: { spec: string; typeOnly: boolean }[] = [];
  // Comments could hold example imports; blank them without moving line structure.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  for (const m of code.matchAll(STATIC)) out.push({ spec: m[3], typeOnly: m[2] !== undefined });
  return out;
}

export function importGraph(root: string): ImportGraph {
  const abs: string[] = [];
  for (const r of ROOTS) walk(join(root, r), abs);
  const files = new Set(abs.map((p) => toPosix(relative(root, p))));
  const runtime = new Map<string, Set<string>>();
  const all = new Map<string, Set<string>>();
  for (const rel of files) {
    const r = new Set<string>();
    const a = new Set<string>();
    for (const { spec, typeOnly } of parseImports(readFileSync(join(root, rel), 'utf8'))) {
      const target = toPosix(normalize(join(dirname(rel), spec))).replace(/\.js$/, '.ts');
      if (!files.has(target)) continue;
      a.add(target);
      if (!typeOnly) r.add(target);
    }
    runtime.set(rel, r);
    all.set(rel, a);
  }
  return { runtime, all };
}

/** Strongly connected components with more than one file, each sorted, largest first. */
export function cycles(g: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  // Iterative Tarjan: the source tree is deep enough to make recursion a risk in a worker's stack.
  for (const start of g.keys()) {
    if (index.has(start)) continue;
    const work: { v: string; it: Iterator<string> }[] = [];
    const open = (v: string): void => {
      index.set(v, counter);
      low.set(v, counter++);
      stack.push(v);
      onStack.add(v);
      work.push({ v, it: (g.get(v) ?? new Set<string>()).values() });
    };
    open(start);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const next = top.it.next();
      if (!next.done) {
        const w = next.value;
        if (!index.has(w)) open(w);
        else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v) as number, index.get(w) as number));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent) as number, low.get(top.v) as number));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop() as string;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        if (comp.length > 1) out.push(comp.sort());
      }
    }
  }
  return out.sort((a, b) => b.length - a.length || a[0].localeCompare(b[0]));
}

/** Pairs of folders whose files import each other (at run time), e.g. solvers ↔ solvers/backend. */
export function mutualFolders(g: Map<string, Set<string>>): [string, string][] {
  const dg = new Map<string, Set<string>>();
  for (const [v, ds] of g) {
    const a = dirname(v);
    for (const w of ds) {
      const b = dirname(w);
      if (a === b) continue;
      if (!dg.has(a)) dg.set(a, new Set());
      (dg.get(a) as Set<string>).add(b);
    }
  }
  const out: [string, string][] = [];
  for (const [a, bs] of dg) for (const b of bs) if (a < b && dg.get(b)?.has(a)) out.push([a, b]);
  return out.sort();
}

export interface CycleReport {
  runtime: string[][];
  all: string[][];
  mutualFolders: [string, string][];
}

export function cycleReport(root: string): CycleReport {
  const g = importGraph(root);
  return { runtime: cycles(g.runtime), all: cycles(g.all), mutualFolders: mutualFolders(g.runtime) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = process.argv[2] ?? packageRoot();
  const r = cycleReport(root);
  console.log(`${r.runtime.length} file-level import cycles at run time, ${r.all.length} counting type-only imports`);
  for (const c of r.runtime) console.log(`  runtime: ${c.join(' ')}`);
  for (const c of r.all) console.log(`  with types: ${c.join(' ')}`);
  for (const [a, b] of r.mutualFolders) console.log(`  folders importing each other: ${a} <-> ${b}`);
}
