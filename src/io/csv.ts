/**
 * CSV output for sweep tables and time series, in RFC 4180 form so that pandas, R, spreadsheets
 * and Python's csv module all read it back to the same values.
 */
import { writeFileAtomic } from './atomic.js';

export type CsvCell = number | string | null;

export interface CsvOptions {
  /** Record separator. RFC 4180 says CRLF; the default '\n' suits Unix tools, and every CSV reader accepts either. */
  eol?: '\n' | '\r\n';
}

/**
 * Renders a header row and data rows.
 *
 * - Numbers use `String(x)`, the shortest text that parses back to the same double; -0 is kept as
 *   "-0", and NaN / Infinity / -Infinity are written as such (pandas and NumPy parse them).
 * - `null` is an empty field; an empty string is written as `""` so the two stay distinct.
 * - Fields with a comma, double quote, CR or LF are quoted, with quotes doubled.
 *
 * @throws RangeError if a row's length differs from the number of columns.
 */
export function toCsv(columns: readonly string[], rows: readonly (readonly CsvCell[])[], opts: CsvOptions = {}): string {
  const eol = opts.eol ?? '\n';
  const out: string[] = [columns.map(quoteString).join(',')];
  rows.forEach((row, i) => {
    if (row.length !== columns.length) {
      throw new RangeError(`toCsv: row ${i} has ${row.length} cells but there are ${columns.length} columns`);
    }
    out.push(row.map(cell).join(','));
  });
  return out.join(eol) + eol;
}

function cell(v: CsvCell): string {
  if (v === null) return '';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return quoteString(v);
}

function quoteString(s: string): string {
  // A lone empty field would read back as null/NaN; quoting it keeps "" distinct from a missing value.
  if (s === '' || /[",\r\n]/.test(s)) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

/** Writes {@link toCsv} output to `path` atomically. */
export function writeCsv(path: string, columns: readonly string[], rows: readonly (readonly CsvCell[])[], opts: CsvOptions = {}): void {
  writeFileAtomic(path, toCsv(columns, rows, opts));
}

/**
 * Parses RFC 4180 text into rows of raw strings (no type conversion; quoted and unquoted
 * fields are not distinguished). Accepts LF or CRLF record separators; a final record
 * separator is optional.
 *
 * @throws Error on a quote inside an unquoted field, text after a closing quote, or an unterminated quoted field.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const n = text.length;
  if (n === 0) return rows;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new Error('parseCsv: unterminated quoted field');
        const c = text[i++]!;
        if (c !== '"') field += c;
        else if (text[i] === '"') {
          field += '"';
          i++;
        } else break;
      }
      if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        throw new Error(`parseCsv: unexpected ${JSON.stringify(text[i])} after a closing quote at offset ${i}`);
      }
    } else {
      while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        if (text[i] === '"') throw new Error(`parseCsv: quote inside an unquoted field at offset ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (i >= n) {
      rows.push(row);
      return rows;
    }
    const sep = text[i++];
    if (sep === ',') continue;
    if (sep === '\r' && text[i] === '\n') i++;
    rows.push(row);
    row = [];
    if (i >= n) return rows;
  }
}
