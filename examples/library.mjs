// fpsolve as a library (docs/library.md): run the bundled Pearson scenario from a script and check
// it against the exact result of docs/oracles.md §1. Plain Node ESM; run from a clone after
// `npm ci` or from an installed package:  node node_modules/fpsolve/examples/library.mjs
//
// Pearson diffusion f = c + b x² with multiplicative noise ησ = 1: π ∝ f^−α with α = 1 + 2/(ησ) = 3,
// spectral gap λ₁ = 2b exactly on the whole line; the box [−10, 10] moves it by a few 1e-4.
import { loadScenario, bundledScenario, runScenario, spectralGap, densityView, invariantDensityView } from 'fpsolve';

// The scenario shipped in the package, wherever it is installed and whatever the working directory.
const scenarioFile = bundledScenario('pearson-1d');
// --set-style overrides, applied before validation: a coarser grid keeps the example quick.
const loaded = loadScenario(scenarioFile, ['domain.cells=[1000]']);
const { c, b } = loaded.scenario.landscape.params;
const { eta, sigma } = loaded.scenario.noise;
const alpha = 1 + 2 / (eta * sigma);

// Callbacks: onProgress sees every report time (t, and the distances of ρ to π).
const l1Series = [];
const result = await runScenario(loaded, {
  gap: false, // computed below through the library, to show spectralGap()
  onProgress: (p) => l1Series.push([p.t, p.point.l1]),
});
const gap = await spectralGap(result.setup);

// ndarray views with coordinates.
const rho = densityView(result);
const pi = invariantDensityView(result.setup);
const x = rho.coords[0];
const n = rho.array.shape[0];

// Exact π on the same cells: cell averages of (c + b x²)^−α by 8-point Gauss–Legendre per cell,
// normalized on the box (the scheme's π is normalized on the box too).
const gl = [
  [0.1834346424956498, 0.3626837833783620],
  [0.5255324099163290, 0.3137066458778873],
  [0.7966664774136267, 0.2223810344533745],
  [0.9602898564975363, 0.1012285362903763],
];
const h = x[1] - x[0];
const exact = new Float64Array(n);
let z = 0;
for (let i = 0; i < n; i++) {
  let s = 0;
  for (const [node, w] of gl) for (const sgn of [-1, 1]) s += (w / 2) * (c + b * (x[i] + (sgn * node * h) / 2) ** 2) ** -alpha;
  exact[i] = s;
  z += s * h;
}
let piError = 0;
let rhoToExact = 0;
for (let i = 0; i < n; i++) {
  exact[i] /= z;
  piError += Math.abs(pi.array.get(i) - exact[i]) * h;
  rhoToExact += Math.abs(rho.array.get(i) - exact[i]) * h;
}

// Decay rate of ‖ρ − π‖₁ over the second half of the run: least squares on log l1 against t.
const tail = l1Series.filter(([t, l1]) => t >= 5 && l1 > 0);
const mt = tail.reduce((a, [t]) => a + t, 0) / tail.length;
const ml = tail.reduce((a, [, l1]) => a + Math.log(l1), 0) / tail.length;
const rate = -tail.reduce((a, [t, l1]) => a + (t - mt) * (Math.log(l1) - ml), 0) / tail.reduce((a, [t]) => a + (t - mt) ** 2, 0);

const final = result.report.final;
console.log(`scenario ${loaded.scenario.name}: ${n} cells, regime ${result.setup.regime.regime}, status ${result.report.status}`);
console.log(`lambda1 = ${gap.value.toFixed(6)}  (exact on the line: 2b = ${2 * b})`);
console.log(`L1 distance to pi at t = ${final.t}: ${final.l1.toExponential(3)}  (to the exact Student pi: ${rhoToExact.toExponential(3)})`);
console.log(`L1 decay rate over t >= 5: ${rate.toFixed(4)}  (lambda1 = ${2 * b})`);
console.log(`|pi - exact pi|_1 = ${piError.toExponential(3)}`);

const failures = [];
if (result.report.status !== 'ok') failures.push(`status ${result.report.status}`);
if (result.setup.regime.regime !== 'converging') failures.push(`regime ${result.setup.regime.regime}, expected converging`);
if (!(Math.abs(gap.value - 2 * b) < 2e-3)) failures.push(`lambda1 ${gap.value} is not within 2e-3 of 2b = ${2 * b}`);
if (!(piError < 1e-8)) failures.push(`the scheme's pi is ${piError} from the exact pi in L1`);
if (!(Math.abs(rhoToExact - final.l1) < 2 * piError + 1e-9)) failures.push(`L1(rho, exact pi) ${rhoToExact} and the reported l1 ${final.l1} differ by more than the pi error allows`);
if (!(Math.abs(rate - 2 * b) < 0.05 * 2 * b)) failures.push(`L1 decays at ${rate}, not within 5% of lambda1 = ${2 * b}`);
if (failures.length > 0) {
  console.error(`library example: FAILED: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('library example: OK (lambda1, pi and the L1 decay agree with docs/oracles.md §1)');
