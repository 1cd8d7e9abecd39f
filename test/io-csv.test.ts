import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseCsv, toCsv, writeCsv } from '../src/io/csv.js';
import type { CsvCell } from '../src/io/csv.js';

const hasPython = spawnSync('python3', ['-c', 'pass'], { stdio: 'ignore' }).status === 0;

const columns = ['name', 'value, with comma', 'say "hi"'];
const rows: CsvCell[][] = [
  ['plain', 1, null],
  ['a,b', 0.1 + 0.2, 'multi\nline'],
  ['quote "inside"', -0, 'crlf\r\nend'],
  ['', 5e-324, ' spaced '],
  ['"', 1.7976931348623157e308, ','],
  ['NaN-ish', NaN, 'x'],
  ['inf', -Infinity, 'é ü 𝜋'],
];

/** What a reader should recover as text: numbers in shortest round-trip form, null as empty. */
const expectedText = [columns, ...rows.map((r) => r.map((c) => (c === null ? '' : typeof c === 'number' ? (Object.is(c, -0) ? '-0' : String(c)) : c)))];

describe('toCsv', () => {
  it('quotes per RFC 4180 exactly where needed', () => {
    expect(toCsv(['a', 'b'], [['x,y', 'say "hi"'], ['line\nbreak', 'plain'], ['', null]])).toBe(
      'a,b\n"x,y","say ""hi"""\n"line\nbreak",plain\n"",\n',
    );
    expect(toCsv(['a'], [[1]], { eol: '\r\n' })).toBe('a\r\n1\r\n');
  });

  it('round-trips through parseCsv, numbers to the last bit', () => {
    for (const eol of ['\n', '\r\n'] as const) {
      const parsed = parseCsv(toCsv(columns, rows, { eol }));
      expect(parsed).toEqual(expectedText);
      const numbers = parsed.slice(1).map((r) => Number(r[1]));
      rows.forEach((r, i) => expect(Object.is(numbers[i], r[1])).toBe(true));
    }
  });

  it('rejects ragged rows', () => {
    expect(() => toCsv(['a', 'b'], [[1]])).toThrow(/row 0 has 1 cells but there are 2 columns/);
  });

  it('parseCsv rejects malformed quoting', () => {
    expect(() => parseCsv('a,"b\n')).toThrow(/unterminated/);
    expect(() => parseCsv('a,"b"c\n')).toThrow(/after a closing quote/);
    expect(() => parseCsv('a,b"c\n')).toThrow(/quote inside an unquoted field/);
  });

  it.skipIf(!hasPython)("python's csv module reads the same cells", () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpsolve-csv-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'out', 't.csv');
    writeCsv(path, columns, rows);
    expect(readdirSync(join(dir, 'out'))).toEqual(['t.csv']);
    const r = spawnSync(
      'python3',
      ['-c', 'import csv, json, sys\nwith open(sys.argv[1], newline="", encoding="utf-8") as f: print(json.dumps(list(csv.reader(f))))', path],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expectedText);
    expect(readFileSync(path, 'utf8')).toBe(toCsv(columns, rows));
  });
});
