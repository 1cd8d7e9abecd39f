/** Exponential integrator vs tight TR-BDF2 on metastable cases: relative L1 gap at each report time. */
import { parseScenarioText } from '../../src/scenario/load.js';
import { setUp } from '../../src/run/run.js';
import { initialDensity } from '../../src/run/initial.js';
import { DeviceExponential, exponentialCgSettings } from '../../solvers/backend/exponential.js';
import { DeviceTrBdf2 } from '../../solvers/backend/implicit.js';
import { cpuBackend } from '../../solvers/backend/choose.js';

const cases: Record<string, string> = {
  dw1a: `name: x
landscape: { expr: "(x^2 - 1)^2" }
domain: { bounds: [[-2, 2]], cells: [400] }
noise: { model: additive, D: DD }
initial: { gaussian: { mean: [1], std: [0.1] } }
time: { end: 1, reportEvery: 0.1 }`,
  dw2a: `name: x
landscape: { expr: "(x^2 - 1)^2 + y^2" }
domain: { bounds: [[-2, 2], [-2, 2]], cells: [CC, CC] }
noise: { model: additive, D: DD }
initial: { gaussian: { mean: [1, 0], std: [0.2, 0.2] } }
time: { end: 1, reportEvery: 0.1 }`,
  dw1m: `name: x
landscape: { expr: "0.01 + (x^2 - 1)^2" }
domain: { bounds: [[-2, 2]], cells: [400] }
noise: { model: multiplicative, eta: 0.1, sigma: DD }
initial: { gaussian: { mean: [1], std: [0.1] } }
time: { end: 1, reportEvery: 0.1 }`,
  dw2m: `name: x
landscape: { expr: "0.01 + (x^2 - 1)^2 + y^2" }
domain: { bounds: [[-2, 2], [-2, 2]], cells: [CC, CC] }
noise: { model: multiplicative, eta: 0.1, sigma: DD }
initial: { gaussian: { mean: [1, 0], std: [0.2, 0.2] } }
time: { end: 1, reportEvery: 0.1 }`,
};
const [name, D, tolS, everyS] = process.argv.slice(2);
const text = cases[name].replace("DD", D).replaceAll("CC", process.env.CELLS ?? "48");
const loaded = parseScenarioText(text, '/tmp/x.yaml', everyS ? [`time.reportEvery=${everyS}`] : []);
const setup = setUp(loaded);
const op = setup.op;
const rho0 = initialDensity(setup.grid, setup.scenario.initial, loaded);
const every = setup.scenario.time.reportEvery;
const end = setup.scenario.time.end;
const tol = Number(tolS ?? 1e-6);
const ex = new DeviceExponential(cpuBackend(op), op, { tolerance: tol, dtMax: every }, exponentialCgSettings(tol));
const tr = new DeviceTrBdf2(cpuBackend(op), op, { tolerance: 1e-8, dtMax: every }, { tol: 1e-12, maxIterations: 20000 });
const a = rho0.slice();
const b = rho0.slice();
const pi = Float64Array.from(op.sqrtPi, (v) => v * v);
let m = 0, mp = 0;
for (let i = 0; i < a.length; i++) { m += a[i]; mp += pi[i]; }
for (let i = 0; i < a.length; i++) pi[i] *= m / mp;
const t0 = performance.now();
let texp = 0;
for (let k = 0; k * every < end - 1e-12; k++) {
  const s = performance.now();
  await ex.advance(a, k * every, (k + 1) * every);
  texp += performance.now() - s;
  await tr.advance(b, k * every, (k + 1) * every);
  let d = 0, n = 0, da = 0, db = 0, mn = 0;
  for (let i = 0; i < a.length; i++) { d += Math.abs(a[i] - b[i]); n += Math.abs(b[i]); da += Math.abs(a[i] - pi[i]); db += Math.abs(b[i] - pi[i]); mn = Math.min(mn, a[i]); }
  console.log(`t=${((k + 1) * every).toFixed(3)} relL1(exp,tr)=${(d / n).toExponential(2)} |exp-pi|=${(da / n).toExponential(2)} |tr-pi|=${(db / n).toExponential(2)} min=${mn.toExponential(1)}`);
}
console.log(`exp: solves ${ex.solver.solves} its ${ex.solver.iterations} intervals ${ex.stats.steps} rejected ${ex.stats.rejected} ${texp.toFixed(0)} ms; tr solves ${tr.solver.solves}; total ${(performance.now() - t0).toFixed(0)} ms`);
