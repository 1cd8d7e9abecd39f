/**
 * Datasets of a data landscape: pairs (x_i, y_i) read from a CSV file or drawn from a teacher.
 *
 * The CSV reader is deliberately narrow: one header line naming the columns, then one record per
 * line of plain numbers (no quoted or multi-line fields, which numeric data never needs), so that
 * every error can name the file, the line and the column.
 */
import { statSync } from 'node:fs';
import { readLimitedText } from '../io/read-limited.js';
import { InputError } from '../errors.js';
import { Xoshiro128 } from './rng.js';
import { MODELS, PARAM_DEFAULTS, type ModelName } from './models.js';
import type { DataParamName } from '../scenario/types.js';

export interface Dataset {
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** Where the data came from, for reports. */
  readonly origin: string;
}

/** Largest dataset we accept: the landscape is evaluated at every quadrature point, n samples each. */
export const MAX_ROWS = 100000;
/** Bytes read from a dataset CSV at most: MAX_ROWS rows with room for many unused columns. */
export const MAX_DATASET_BYTES = 64 * 1024 * 1024;

const unquote = (s: string): string => {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
};

/** Parses CSV text with a header; `file` and `field` name the source in errors. */
export function parseDatasetCsv(text: string, columns: { x: string; y: string }, file: string, field: string): Dataset {
  const fail = (msg: string): never => {
    throw new InputError(msg, { file, field });
  };
  const lines = text.split(/\r?\n/);
  let headerLine = -1;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t !== '' && !t.startsWith('#')) {
      headerLine = i;
      break;
    }
  }
  if (headerLine < 0) fail('the CSV file is empty: it needs a header line naming the columns, then rows of numbers');
  const header = lines[headerLine]!.split(',').map(unquote);
  const find = (name: string, role: string): number => {
    const k = header.indexOf(name);
    // The header's own names are the file's text (the path may name any file), so only their count is said.
    if (k < 0) fail(`line ${headerLine + 1}: no column named ${JSON.stringify(name)} for ${role} (the header line has ${header.length} column${header.length === 1 ? '' : 's'}, none of them named so); set data.columns`);
    return k;
  };
  const kx = find(columns.x, 'the input x');
  const ky = find(columns.y, 'the target y');
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = headerLine + 1; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === '' || t.startsWith('#')) continue;
    const cells = t.split(',');
    if (cells.length !== header.length) {
      fail(`line ${i + 1}: ${cells.length} fields, but the header has ${header.length}`);
    }
    const num = (k: number): number => {
      const s = cells[k]!.trim();
      const v = s === '' ? NaN : Number(s);
      // header[k] is the name the scenario asked for; the cell's text is not quoted.
      if (!Number.isFinite(v)) fail(`line ${i + 1}, column ${k + 1} (${JSON.stringify(header[k])}): must be a finite number (got ${s === '' ? 'an empty field' : 'text that is not a number'})`);
      return v;
    };
    xs.push(num(kx));
    ys.push(num(ky));
    if (xs.length > MAX_ROWS) fail(`more than ${MAX_ROWS} rows; data landscapes are evaluated at every quadrature point, so keep datasets small`);
  }
  if (xs.length === 0) fail('the CSV file has a header but no rows of data');
  return { x: Float64Array.from(xs), y: Float64Array.from(ys), origin: `${xs.length} rows of ${file} (columns ${columns.x}, ${columns.y})` };
}

const cache = new Map<string, { mtimeMs: number; size: number; data: Dataset }>();

/** Reads a dataset CSV (cached per path, size and modification time: the loader and the run both ask). */
export function readDatasetCsv(path: string, columns: { x: string; y: string }, scenarioFile: string | undefined, field: string): Dataset {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`no such file ${path} (relative paths are resolved against the scenario file's directory)`, { file: scenarioFile, field });
  }
  if (!st.isFile()) throw new InputError(`${path} is not a regular file`, { file: scenarioFile, field });
  const key = `${path}\u0000${columns.x}\u0000${columns.y}`;
  const hit = cache.get(key);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.data;
  // MAX_ROWS rows of two numbers fit in a few MiB; a bigger file (or a FIFO swapped in after the stat) is refused unread.
  const data = parseDatasetCsv(readLimitedText(path, { maxBytes: MAX_DATASET_BYTES, what: 'dataset', file: scenarioFile, field }), columns, path, 'columns');
  cache.set(key, { mtimeMs: st.mtimeMs, size: st.size, data });
  return data;
}

export interface TeacherSpec {
  params: Partial<Record<DataParamName, number>>;
  n: number;
  seed: number;
  noise?: number;
  inputStd?: number;
}

/**
 * Data from a teacher of the same architecture: x_i ~ N(0, inputStd²), y_i = model(teacher; x_i) + noise·N(0, 1),
 * all from one seeded stream, so a scenario names its dataset completely.
 */
export function teacherDataset(model: ModelName, t: TeacherSpec): Dataset {
  const m = MODELS[model];
  const p = { ...PARAM_DEFAULTS, ...t.params };
  const rng = new Xoshiro128(t.seed);
  const sx = t.inputStd ?? 1;
  const noise = t.noise ?? 0;
  const x = new Float64Array(t.n);
  const y = new Float64Array(t.n);
  for (let i = 0; i < t.n; i++) {
    x[i] = sx * rng.nextNormal();
    y[i] = m.predict(p.v, p.w, p.b, x[i]!) + noise * rng.nextNormal();
  }
  const shown = m.params.map((k) => `${k} = ${p[k]}`).join(', ');
  return { x, y, origin: `${t.n} samples from a ${model} teacher (${shown}), x ~ N(0, ${sx}²), label noise ${noise}, seed ${t.seed}` };
}
