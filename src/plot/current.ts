/**
 * The figures of a diffusion-matrix run (src/nonrev/): the steady state with its probability
 * current, and ρ(t) against the steady state. 2-D: a heat map of ρ_ss with current arrows on a
 * coarse lattice (block means of J), beside a heat map of |J|; 3-D: the same on the z mid-slice
 * with the in-plane components; 1-D: ρ_ss and J along x (in 1-D a steady current is constant, and 0
 * with reflecting walls: the curve shows how close to 0 the discrete one is).
 */
import type { TopLevelSpec } from 'vega-lite';
import { BASE_CONFIG, MARK, PLOT_HEIGHT, PLOT_WIDTH, fmtNum, renderFigure, type Figure } from './common.js';
import { coarsenPlane, extractPlane, heatmapRows, panelDims, wantsLogColour, PANEL_SIZE, type GridShape, type Plane } from './heatmap.js';
import { fieldView } from '../field/field.js';
import { distancesSpec } from './distances.js';
import type { MatrixRunResult } from '../nonrev/types.js';

/** Heat maps are block-averaged to at most this many cells per axis (as the run's figures). */
const MAX_CELLS = 80;
/** Arrows per axis at most: more would be unreadable at 480 px. */
export const MAX_ARROWS = 18;

export interface Arrow {
  x: number;
  y: number;
  x2: number;
  y2: number;
  /** |J| of the block (the arrow's length is scaled, this is the value). */
  m: number;
}

/**
 * Arrows of a planar vector field (components ja, jb on the plane's cells): one per block of cells,
 * at the block's centre, the block mean of J, scaled so that the longest is 0.9 of a block's width.
 */
export function currentArrows(plane: Plane, ja: Float64Array, jb: Float64Array, maxArrows = MAX_ARROWS): Arrow[] {
  const na = plane.edgesA.length - 1;
  const nb = plane.edgesB.length - 1;
  const ka = Math.max(1, Math.ceil(na / maxArrows));
  const kb = Math.max(1, Math.ceil(nb / maxArrows));
  const blocks: { x: number; y: number; u: number; v: number }[] = [];
  for (let I = 0; I * ka < na; I++) {
    for (let J = 0; J * kb < nb; J++) {
      const i1 = Math.min(na, (I + 1) * ka);
      const j1 = Math.min(nb, (J + 1) * kb);
      let u = 0;
      let v = 0;
      let c = 0;
      for (let i = I * ka; i < i1; i++) {
        for (let j = J * kb; j < j1; j++) {
          u += ja[i * nb + j];
          v += jb[i * nb + j];
          c++;
        }
      }
      blocks.push({ x: 0.5 * (plane.edgesA[I * ka] + plane.edgesA[i1]), y: 0.5 * (plane.edgesB[J * kb] + plane.edgesB[j1]), u: u / c, v: v / c });
    }
  }
  const longest = Math.max(0, ...blocks.map((b) => Math.hypot(b.u, b.v)));
  if (!(longest > 0)) return [];
  const cellA = (plane.edgesA[na] - plane.edgesA[0]) / Math.ceil(na / ka);
  const cellB = (plane.edgesB[nb] - plane.edgesB[0]) / Math.ceil(nb / kb);
  const scale = (0.9 * Math.min(cellA, cellB)) / longest;
  // Arrows below 2 % of the longest are dots at this scale: left out, the heat map of |J| shows them.
  return blocks
    .filter((b) => Math.hypot(b.u, b.v) > 0.02 * longest)
    .map((b) => ({ x: b.x - 0.5 * scale * b.u, y: b.y - 0.5 * scale * b.v, x2: b.x + 0.5 * scale * b.u, y2: b.y + 0.5 * scale * b.v, m: Math.hypot(b.u, b.v) }));
}

function heat(plane: Plane, legend: string, log: boolean, name: string, title: string, arrows?: Arrow[]): Record<string, unknown> {
  const { width, height } = panelDims(plane, PANEL_SIZE);
  const rows = heatmapRows({ title, plane, scale: 'sequential', legend, log }, width, height);
  const max = Math.max(0, ...rows.map((r) => r.v));
  const ea = plane.edgesA;
  const eb = plane.edgesB;
  const x = { type: 'quantitative', title: plane.labelA, scale: { domain: [ea[0], ea[ea.length - 1]], nice: false, zero: false, padding: 0 }, axis: { grid: false } };
  const y = { type: 'quantitative', title: plane.labelB, scale: { domain: [eb[0], eb[eb.length - 1]], nice: false, zero: false, padding: 0 }, axis: { grid: false } };
  const colour = log && max > 0 ? { type: 'log', scheme: 'viridis', domain: [1e-6 * max, max], clamp: true } : { scheme: 'viridis', zero: true };
  const layers: Record<string, unknown>[] = [
    {
      data: { values: rows },
      name: `${MARK.heatmap}_${name}`,
      mark: { type: 'rect', stroke: null, clip: true },
      encoding: {
        x: { field: 'a0', ...x },
        x2: { field: 'a1' },
        y: { field: 'b0', ...y },
        y2: { field: 'b1' },
        color: { field: 'v', type: 'quantitative', title: log ? `${legend} (log)` : legend, scale: colour, legend: { orient: 'bottom', direction: 'horizontal', gradientLength: Math.max(60, Math.min(200, width - 20)) } },
      },
    },
  ];
  if (arrows && arrows.length > 0) {
    // A shaft and a head point at the tip; white with a dark edge reads on every viridis colour.
    layers.push({ data: { values: arrows }, name: 'current_arrows', mark: { type: 'rule', color: 'white', strokeWidth: 1.6 }, encoding: { x: { field: 'x', ...x }, y: { field: 'y', ...y }, x2: { field: 'x2' }, y2: { field: 'y2' } } });
    layers.push({ data: { values: arrows }, name: 'current_heads', mark: { type: 'point', filled: true, color: 'white', stroke: '#222', strokeWidth: 0.5, size: 18 }, encoding: { x: { field: 'x2', ...x }, y: { field: 'y2', ...y } } });
  }
  return { title, width, height, layer: layers, resolve: { scale: { color: 'independent' } } };
}

/** The 2-D (or 3-D mid-slice) figure: ρ_ss with the current's arrows, and |J|. */
export function currentFieldSpec(grid: GridShape, steady: Float64Array, current: Float64Array, title: string): TopLevelSpec {
  const d = grid.n.length;
  const fixed = d === 3 ? { axis: 2, at: Math.floor(grid.n[2] / 2) } : undefined;
  const [a, b] = [0, 1];
  const comp = (k: number): Float64Array => current.filter((_, i) => i % d === k);
  const plane = (f: Float64Array): Plane => extractPlane(fieldView(grid, f), grid, fixed);
  const rho = plane(steady);
  const ja = plane(comp(a));
  const jb = plane(comp(b));
  const mag = { ...ja, values: ja.values.map((v, i) => Math.hypot(v, jb.values[i])) };
  const rhoC = coarsenPlane(rho, MAX_CELLS, 'mean');
  const magC = coarsenPlane(mag, MAX_CELLS, 'mean');
  const arrows = currentArrows(ja, ja.values, jb.values);
  const where = fixed ? ` (z mid-slice, in-plane components)` : '';
  return {
    title,
    config: BASE_CONFIG,
    hconcat: [heat(rhoC, 'ρ_ss', wantsLogColour(rhoC.values), 'steady', `steady state ρ_ss and its current J${where}`, arrows), heat(magC, '|J|', false, 'current', `|J|${where}`)],
  } as unknown as TopLevelSpec;
}

/** The 1-D figure: ρ_ss and J against x, one panel each. */
export function currentLineSpec(x: Float64Array, steady: Float64Array, current: Float64Array, title: string): TopLevelSpec {
  const rows = Array.from(x, (v, i) => ({ x: v, rho: steady[i], J: current[i] }));
  const panel = (field: 'rho' | 'J', label: string): Record<string, unknown> => ({
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT / 2,
    name: `${MARK.series}_${field}`,
    mark: { type: 'line', clip: true },
    encoding: { x: { field: 'x', type: 'quantitative', title: 'x' }, y: { field, type: 'quantitative', title: label } },
  });
  return { title, config: BASE_CONFIG, data: { values: rows }, vconcat: [panel('rho', 'ρ_ss'), panel('J', 'J')] } as unknown as TopLevelSpec;
}

export interface CurrentFigureSpec {
  name: string;
  title: string;
  spec: TopLevelSpec;
}

/** The figures of a matrix run: `steady-current` and the distances to the steady state over time. */
export function matrixFigureSpecs(result: MatrixRunResult): CurrentFigureSpec[] {
  const { report, grid, steady, current } = result;
  const name = report.scenario.name;
  const nr = report.nonReversible;
  const title = `${name}: steady state and probability current (max |J| ${fmtNum(nr.currentMax)}, entropy production ${fmtNum(nr.entropyProduction)})`;
  const specs: CurrentFigureSpec[] = [];
  specs.push({ name: 'steady-current', title, spec: grid.dim === 1 ? currentLineSpec(grid.centres(0), steady, current, title) : currentFieldSpec(grid, steady, current, title) });
  const dTitle = `${name}: distances to the computed steady state and E[f] against t`;
  const gap = report.gap ? { value: report.gap.value, label: 'spectral gap' as const } : null;
  specs.push({ name: 'distances', title: dTitle, spec: distancesSpec({ series: report.series, rates: report.rates, equilibrium: report.equilibrium, regime: 'converging', gap, title: dTitle }) });
  return specs;
}

export async function buildMatrixFigures(result: MatrixRunResult): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const f of matrixFigureSpecs(result)) out.push(await renderFigure(f.name, f.title, f.spec));
  return out;
}
