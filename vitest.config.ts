import { defineConfig } from 'vitest/config';

/**
 * Whole-process CLI tests (they spawn bin/fpsolve.js, run the CLI end to end, or load the machine) and the longest
 * numerical files: together most of the suite's time. `npm test` runs the rest in under five minutes on the 2-core CI machine;
 * `npm run test:e2e` runs these; CI (.ci/run) runs both.
 */
export const E2E = [
  'test/cli-errors.test.ts',
  'test/reliability-cli.test.ts',
  'test/check-cli.test.ts',
  'test/sweep-run.test.ts',
  'test/report-cli.test.ts',
  'test/gap-run.test.ts',
  // Whole-CLI fuzz, output locations and sweeps, hostile inputs through the built CLI.
  'test/reliability-fuzz.test.ts',
  'test/outputs.test.ts',
  'test/hostile-input.test.ts',
  'test/hostile-input-2.test.ts',
  // Spawns busy processes on purpose: it would slow every test running beside it.
  'test/reproducibility.test.ts',
  // Typed failures through whole processes: a 512² run with a dying kernel thread, sweeps that retry.
  'test/failures-e2e.test.ts',
  // Stop/resume through the CLI, six integrator cases.
  'test/resume.test.ts',
  // Red team of #20: hand-edited checkpoints, one of which used to hang `run --resume`.
  'test/redteam-20.test.ts',
  // Diffusion-matrix runs through the built CLI (outputs, refused flags, a signal mid-run).
  'test/nonrev-cli.test.ts',
  // Child processes: sweep worker pools, thread scheduling forced per seed, the CLI without gpu.js.
  'test/worker-pool.test.ts',
  // sweep --in-process against worker processes, and WorkerPool.prestart (spawns workers and the CLI).
  'test/sweep-in-process.test.ts',
  'test/thread-scheduling.test.ts',
  'test/gpu-lazy.test.ts',
  // --backend auto's reason from a GPU benchmark record, through the built CLI.
  'test/gpu-auto-cli.test.ts',
  // The device-check script without a GPU: its refusal, and a --software run on a tiny grid (CLI spawns).
  'test/gpu-auto-device-check.test.ts',
  // Red team of #22: the device-check script failing to write its results (spawns tiny --software runs).
  'test/red22-device-script.test.ts',
  // Red team of #22: webasm against float64 and the exact OU law through the built CLI (six runs).
  'test/red22-numbers.test.ts',
  // Red team of #22: peak RSS of a 384² webasm run against the --max-memory estimate (spawns).
  'test/red22-memory.test.ts',
  // Red team of #22: neuron-1d on webasm against the CPU (four CLI runs).
  'test/red22-onedim.test.ts',
  // Red team of #22: stop/resume of refined webasm runs through the CLI.
  'test/red22-resume.test.ts',
  // Red team of #22: SIGTERM/SIGINT during a webasm run (CLI spawns).
  'test/red22-signal.test.ts',
  // fpsolve committor / escape through the built CLI (three spawns).
  'test/committor-cli.test.ts',
  // committor against simulate --first-passage through the built CLI (e2e: spawns).
  'test/committor-simulate.test.ts',
  // The critical-noise recipe through `fpsolve run --html` and a two-point `fpsolve sweep`.
  'test/critical-limit-cli.test.ts',
  // Red team of #17: hostile set specs, the memory refusal and --json through the built CLI.
  'test/redteam-17-cli.test.ts',
  // Start-up through the built CLI: the bundle against dist/, the modules each command loads (spawns).
  'test/startup-bundle.test.ts',
  'test/startup-imports.test.ts',
  'test/startup-work.test.ts',
  // The heaviest numerical files, kept out of `npm test`'s five minutes: Monte Carlo against the PDE,
  // the Zarr store read back by Python, the non-symmetric multigrid's counts up to 512², the WebGPU
  // (llvmpipe) kernels, the #17 red team's dense solves.
  'test/simulate-compare.test.ts',
  'test/zarr.test.ts',
  'test/nonsym-multigrid.test.ts',
  'test/nonsym-rediscretise.test.ts',
  'test/gpu-webgpu.test.ts',
  'test/redteam-17.test.ts',
  // Long numerical files (the unit project runs on one worker on a 2-core machine, vitest's default):
  // the gap's refinement and parity classes, exact solutions, collapse regimes, kernel threads and
  // multigrid counts, the WebAssembly and gpu.js (software) backends.
  'test/gap-refine.test.ts',
  'test/gap-parity.test.ts',
  'test/exact-solutions.test.ts',
  'test/regime-collapse.test.ts',
  'test/threads.test.ts',
  'test/multigrid-iterations.test.ts',
  'test/gpu-webasm.test.ts',
  'test/gpu-backend.test.ts',
  'test/wasm-kernels.test.ts',
  'test/gap-start.test.ts',
  'test/gap-threads.test.ts',
  'test/report-figures.test.ts',
  'test/regime-zeros.test.ts',
  // whole webasm runs against float64 with and without refinement (about 10 s quiet)
  'test/gpu-refine.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      // tsc also compiles the tests into dist/; run only the sources.
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: E2E } },
      { extends: true, test: { name: 'e2e', include: E2E } },
    ],
  },
});
