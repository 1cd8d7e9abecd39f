/**
 * The bench scripts' shared results file (bench/results-sweep.md): a script's run rewrites only its
 * own marked section (test/bench/sweep-section.ts). sweep-bench.ts used to rewrite the whole file,
 * erasing sweep-vs-scipy.ts's numbers and the notes.
 */
import { describe, expect, it } from 'vitest';
import { replaceSection } from './bench/sweep-section.js';

const file = ['# Title', '', '<!-- a.ts: begin -->', 'old a', '<!-- a.ts: end -->', '', 'notes', '', '<!-- b.ts: begin -->', 'old b', '<!-- b.ts: end -->', 'tail', ''].join('\n');

describe('bench results sections', () => {
  it('replaces its own section and keeps every other line byte for byte', () => {
    const out = replaceSection(file, 'a.ts', 'new a\nline 2\n');
    expect(out).toBe(file.replace('old a', 'new a\nline 2'));
    const out2 = replaceSection(out, 'b.ts', 'new b');
    expect(out2).toBe(file.replace('old a', 'new a\nline 2').replace('old b', 'new b'));
  });

  it('is idempotent and appends a missing section without touching the rest', () => {
    const once = replaceSection(file, 'c.ts', 'c body');
    expect(once.startsWith(file)).toBe(true);
    expect(once.slice(file.length)).toBe('\n<!-- c.ts: begin -->\nc body\n<!-- c.ts: end -->\n');
    expect(replaceSection(once, 'c.ts', 'c body')).toBe(once);
    expect(replaceSection('', 'c.ts', 'x')).toBe('<!-- c.ts: begin -->\nx\n<!-- c.ts: end -->\n');
  });
});
