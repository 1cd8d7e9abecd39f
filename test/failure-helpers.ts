/**
 * Runs `f` with FPSOLVE_TEST_FAULT set to `fault` (unset when undefined), then restores it. The
 * test-only fault hooks are documented in solvers/base/fault-injection.ts.
 */
export async function withFault<T>(fault: string | undefined, f: () => T | Promise<T>): Promise<T> {
  const saved = process.env.FPSOLVE_TEST_FAULT;
  if (fault === undefined) delete process.env.FPSOLVE_TEST_FAULT;
  else process.env.FPSOLVE_TEST_FAULT = fault;
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env.FPSOLVE_TEST_FAULT;
    else process.env.FPSOLVE_TEST_FAULT = saved;
  }
}
