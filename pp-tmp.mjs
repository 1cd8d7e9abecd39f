import { executeRun } from './dist/src/cli/commands/run.js';
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (let i = 0; i < 8; i++) {
  const c = cpu(); const w = performance.now();
  const r = await executeRun('scenarios/pearson-1d.yaml', { set: [`noise.eta=${0.05 + 0.02 * i}`, 'time.end=16', 'time.reportEvery=1'], gap: false, quiet: true });
  console.log(i, 'cpu', (cpu() - c).toFixed(0), 'wall', (performance.now() - w).toFixed(0), r.exitCode, r.result.report.integrator.steps);
}
