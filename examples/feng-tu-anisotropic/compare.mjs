// Compares the steady states of the two runs of this study (README.md): where the mass sits along the
// valley y = 0, the variance across the valley against its curvature (the variance–flatness
// relation), and the current. Reads each run's --out directory (steady.npy, its axes, report.json);
// writes compare.csv and compare.svg into the first argument's parent or OUT.
//
//   node examples/feng-tu-anisotropic/compare.mjs runs/ft-hessian runs/ft-isotropic [OUT]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';

/** A little-endian float64 .npy (what fpsolve writes), C order. */
function readNpy(path) {
  const b = readFileSync(path);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.subarray(start, start + hlen).toString('latin1');
  if (!/'descr':\s*'<f8'/.test(header) || /'fortran_order':\s*True/.test(header)) throw new Error(`${path}: expected a C-order <f8 array`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const off = start + hlen;
  const data = new Float64Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length));
  return { shape, data };
}

function load(dir) {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  if (report.kind !== 'diffusion-matrix') throw new Error(`${dir}: not a diffusion-matrix run (report.kind ${report.kind})`);
  const rho = readNpy(join(dir, 'steady.npy'));
  const x = readNpy(join(dir, 'steady-axis0.npy')).data;
  const y = readNpy(join(dir, 'steady-axis1.npy')).data;
  const [nx, ny] = rho.shape;
  const hx = x[1] - x[0];
  const hy = y[1] - y[0];
  // Valley marginal m(x) = ∫ρ dy and, at each x, the mean and variance of y across the valley.
  const m = new Float64Array(nx);
  const mean = new Float64Array(nx);
  const variance = new Float64Array(nx);
  let total = 0;
  for (let i = 0; i < nx; i++) {
    let s = 0;
    let s1 = 0;
    let s2 = 0;
    for (let j = 0; j < ny; j++) {
      const r = Math.max(0, rho.data[i * ny + j]);
      s += r;
      s1 += r * y[j];
      s2 += r * y[j] * y[j];
    }
    m[i] = s * hy;
    mean[i] = s1 / s;
    variance[i] = s2 / s - (s1 / s) ** 2;
    total += m[i] * hx;
  }
  for (let i = 0; i < nx; i++) m[i] /= total;
  let flatHalf = 0;
  for (let i = 0; i < nx; i++) if (x[i] < 0) flatHalf += m[i] * hx;
  const p = report.scenario.landscape.params;
  const lambda = Array.from(x, (v) => p.l0 * Math.exp(p.g * v));
  // Variance–flatness: least-squares slope of ln Var(y|x) on ln λ(x) (Var ∝ λ^slope).
  const lx = lambda.map(Math.log);
  const ly = Array.from(variance, Math.log);
  const mx = lx.reduce((a, v) => a + v, 0) / nx;
  const my = ly.reduce((a, v) => a + v, 0) / nx;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < nx; i++) {
    sxy += (lx[i] - mx) * (ly[i] - my);
    sxx += (lx[i] - mx) ** 2;
  }
  const meanX = Array.from(x).reduce((a, v, i) => a + v * m[i] * hx, 0);
  return { report, x, m, variance, lambda, flatHalf, meanX, slope: sxy / sxx };
}

const [a, b, outArg] = process.argv.slice(2);
if (!a || !b) {
  process.stderr.write('usage: node compare.mjs <hessian run dir> <isotropic run dir> [out dir]\n');
  process.exit(2);
}
const runs = [
  { label: 'Hessian-aligned', ...load(a) },
  { label: 'isotropic, same trace', ...load(b) },
];
const out = outArg ?? dirname(a);
mkdirSync(out, { recursive: true });

const rows = ['x,lambda,m_hessian,m_isotropic,var_hessian,var_isotropic'];
for (let i = 0; i < runs[0].x.length; i++) rows.push([runs[0].x[i], runs[0].lambda[i], runs[0].m[i], runs[1].m[i], runs[0].variance[i], runs[1].variance[i]].join(','));
writeFileSync(join(out, 'compare.csv'), rows.join('\n') + '\n');

for (const r of runs) {
  const nr = r.report.nonReversible;
  process.stdout.write(
    `${r.label}: mass on the flat half (x < 0) ${r.flatHalf.toFixed(4)}, mean x ${r.meanX.toFixed(4)}, ` +
      `Var(y|x) ∝ λ^${r.slope.toFixed(3)}, max |J| ${nr.currentMax.toPrecision(3)}, entropy production ${nr.entropyProduction.toPrecision(3)}` +
      `${nr.oneWayPairs ? ` (+${nr.oneWayPairs} one-way pairs)` : ''}, vs best e^(−f/T): T = ${nr.gibbs.T?.toPrecision(3)}, L1 ${nr.gibbs.l1?.toPrecision(3)}` +
      `${nr.isotropic?.integrable ? `, vs isotropic π (ησ = ${nr.isotropic.etaSigma}): L1 ${nr.isotropic.l1.toPrecision(3)}` : ''}\n`,
  );
}

const marg = runs.flatMap((r) => Array.from(r.x, (v, i) => ({ x: v, m: r.m[i], run: r.label })));
const vf = runs.flatMap((r) => Array.from(r.x, (_, i) => ({ lambda: r.lambda[i], v: r.variance[i], run: r.label })));
const spec = {
  title: 'Feng–Tu valley: Hessian-aligned against isotropic noise of the same trace (steady states)',
  config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif' },
  hconcat: [
    {
      title: 'valley marginal m(x) = ∫ρ_ss dy',
      width: 380,
      height: 260,
      data: { values: marg },
      mark: 'line',
      encoding: { x: { field: 'x', type: 'quantitative', title: 'x (flat → sharp)' }, y: { field: 'm', type: 'quantitative', title: 'm(x)' }, color: { field: 'run', type: 'nominal' } },
    },
    {
      title: 'variance across the valley against its curvature',
      width: 380,
      height: 260,
      data: { values: vf },
      mark: 'line',
      encoding: {
        x: { field: 'lambda', type: 'quantitative', scale: { type: 'log' }, title: 'λ(x) = l0·e^(g x) (sharpness)' },
        y: { field: 'v', type: 'quantitative', scale: { type: 'log' }, title: 'Var(y | x)' },
        color: { field: 'run', type: 'nominal' },
      },
    },
  ],
};
const vl = await import('vega-lite');
const vega = await import('vega');
const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
writeFileSync(join(out, 'compare.svg'), await view.toSVG());
view.finalize();
process.stdout.write(`wrote ${join(out, 'compare.csv')} and ${join(out, 'compare.svg')}\n`);
