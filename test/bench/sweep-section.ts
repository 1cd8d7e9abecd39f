/**
 * bench/results-sweep.md holds one section per bench script (sweep-bench.ts, sweep-vs-scipy.ts) and
 * hand-written notes; each script rewrites only the text between its own markers, so a run of
 * one never erases another's numbers or the notes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../src/io/atomic.js';

const markers = (name: string): { begin: string; end: string } => ({ begin: `<!-- ${name}: begin -->`, end: `<!-- ${name}: end -->` });

/** `text` with `name`'s section replaced by `body` (appended, after a blank line, when the markers are missing). */
export function replaceSection(text: string, name: string, body: string): string {
  const { begin, end } = markers(name);
  const section = `${begin}\n${body.endsWith('\n') ? body : `${body}\n`}${end}`;
  const i = text.indexOf(begin);
  const j = i >= 0 ? text.indexOf(end, i + begin.length) : -1;
  if (i >= 0 && j >= 0) return `${text.slice(0, i)}${section}${text.slice(j + end.length)}`;
  if (!text) return `${section}\n`;
  return `${text.replace(/\n*$/, '\n')}\n${section}\n`;
}

/** Rewrites `name`'s section of `file`, keeping everything outside its markers. */
export function writeSection(file: string, name: string, body: string): void {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  writeFileAtomic(file, replaceSection(old, name, body));
}
