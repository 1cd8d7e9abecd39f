/**
 * One timed run in its own process (so runs do not share JIT state or heap, like the SciPy
 * script): prints one JSON line (RefRun). Argument: JSON {n, method} for the reference problem,
 * or {scenario, overrides, method} for a scale run.
 */
import { runReference, runScenarioFile, type Method } from './reference-problem.js';

interface Job {
  n?: number;
  scenario?: string;
  overrides?: string[];
  method: Method;
  end?: number;
}
const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const out = await (job.scenario ? runScenarioFile(job.scenario, job.overrides ?? [], job.method, job.end ?? 1) : runReference(job.n ?? 256, job.method, undefined, job.end ?? 1));
console.log(JSON.stringify(out));
