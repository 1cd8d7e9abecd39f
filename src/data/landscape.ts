/**
 * `landscape: { data: {...} }` → the empirical risk on the grid's params, as a compiled landscape.
 * Semantic checks live here (the schema cannot say which params a model has); every failure is an
 * InputError naming the field under `landscape.data`.
 */
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';
import type { CompiledExpr } from '../landscape/expr.js';
import type { DataLandscapeSpec, DataParamName } from '../scenario/types.js';
import { assertConfined } from '../io/confine.js';
import { readDatasetCsv, teacherDataset, type Dataset } from './dataset.js';
import { MODELS, PARAM_DEFAULTS, PARAM_INDEX, PARAM_NAMES } from './models.js';
import { EmpiricalRisk, riskExpr } from './risk.js';

export interface ResolvedDataLandscape {
  readonly source: string;
  /** The fixed params' values (those not on the grid). */
  readonly params: Record<string, number>;
  readonly compiled: CompiledExpr;
  readonly doc: string;
  readonly risk: EmpiricalRisk;
}

/** Directory that relative data paths resolve against: the scenario file's, or the working directory for inline scenarios. */
export function dataBaseDir(file: string | undefined): string {
  return file === undefined || file === '<inline>' ? process.cwd() : dirname(resolve(file));
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

export function resolveDataLandscape(spec: DataLandscapeSpec, dim: number, file?: string): ResolvedDataLandscape {
  const d = spec.data;
  const fail = (field: string, msg: string): never => {
    throw new InputError(msg, { file, field: `landscape.data${field ? `.${field}` : ''}` });
  };
  if (spec.params !== undefined) fail('', 'a data landscape takes no params; fix the model params that are not on the grid with data.fixed');
  const model = MODELS[d.model];
  if (model === undefined) fail('model', `must be one of ${Object.keys(MODELS).join(', ')} (got ${show(d.model)})`);
  const allowed = model.params;
  if (d.grid.length !== dim) {
    fail('grid', `names one param per domain axis: the domain has ${dim} ${dim === 1 ? 'axis' : 'axes'} (got ${show(d.grid)})`);
  }
  d.grid.forEach((p, k) => {
    if (!allowed.includes(p)) fail(`grid.${k}`, `the ${model.name} model's params are ${allowed.join(', ')} (got ${show(p)})`);
    if (d.grid.indexOf(p) !== k) fail(`grid.${k}`, `each param may span one axis only (got ${show(p)} twice)`);
  });
  for (const [name, value] of Object.entries(d.fixed ?? {})) {
    if (!allowed.includes(name as DataParamName)) fail(`fixed.${name}`, `the ${model.name} model's params are ${allowed.join(', ')} (got ${show(name)})`);
    if (d.grid.includes(name as DataParamName)) fail(`fixed.${name}`, `'${name}' spans a grid axis and cannot also be fixed (got ${show(value)})`);
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(`fixed.${name}`, `must be a finite number (got ${show(value)})`);
  }
  if ((d.file === undefined) === (d.teacher === undefined)) fail('', 'needs exactly one of file (a CSV dataset) and teacher (generated data)');
  let data: Dataset;
  if (d.file !== undefined) {
    const path = resolve(dataBaseDir(file), d.file);
    assertConfined(path, { file, field: 'landscape.data.file' });
    data = readDatasetCsv(path, d.columns ?? { x: 'x', y: 'y' }, file, 'landscape.data.file');
  } else {
    const t = d.teacher!;
    for (const name of Object.keys(t.params)) {
      if (!allowed.includes(name as DataParamName)) fail(`teacher.params.${name}`, `the ${model.name} model's params are ${allowed.join(', ')} (got ${show(name)})`);
    }
    data = teacherDataset(d.model, t);
  }
  const base = PARAM_NAMES.map((p) => d.fixed?.[p] ?? PARAM_DEFAULTS[p]);
  const axes = d.grid.map((p) => PARAM_INDEX[p]);
  const risk = new EmpiricalRisk(model, data, axes, base);
  const fixedNames = allowed.filter((p) => !d.grid.includes(p));
  const params: Record<string, number> = Object.fromEntries(fixedNames.map((p) => [p, base[PARAM_INDEX[p]]!]));
  const fixedText = fixedNames.length ? `; fixed ${fixedNames.map((p) => `${p} = ${params[p]}`).join(', ')}` : '';
  const source = `(1/n) Σ_i (${model.formula.replace(/x/g, 'x_i')} − y_i)²/2 over (${d.grid.join(', ')})${fixedText}; data: ${data.origin}`;
  const doc = `empirical squared-loss risk of the ${model.name} model y ≈ ${model.formula} on n = ${data.x.length} samples, params (${d.grid.join(', ')}) on the grid${fixedText}`;
  return { source, params, compiled: riskExpr(risk, source), doc, risk };
}
