/**
 * The reversible pipeline (π = e^{−ψ} known in closed form, the symmetric operator, the gap, the
 * committor) needs a scalar noise model. A diffusion-matrix model reaching it is refused in one
 * line, exit 2, instead of failing somewhere inside the numerics.
 */
import { InputError } from '../errors.js';
import { isMatrixNoise, type NoiseSpec, type ReversibleNoiseSpec } from '../scenario/types.js';

/** Command names of src/cli/main.ts; `worker` processes run sweep points. */
const COMMANDS = ['run', 'validate', 'gap', 'sweep', 'check', 'simulate', 'committor', 'escape', 'worker'];

/**
 * The command this process runs, read off the command line: set-up is shared by every command and
 * is not told which one called it. Library callers (no command on the line) get a generic name.
 */
export function invokedCommand(argv: readonly string[] = process.argv): string | undefined {
  const name = argv.slice(2).find((a) => COMMANDS.includes(a));
  return name === 'worker' ? 'sweep' : name;
}

/** `spec` itself when it is a scalar model; an InputError naming the command otherwise. */
export function reversibleNoise(spec: NoiseSpec, file?: string, command: string | undefined = invokedCommand()): ReversibleNoiseSpec {
  if (!isMatrixNoise(spec)) return spec;
  const by = command === undefined ? 'the reversible solver (setUp)' : `\`fpsolve ${command}\``;
  throw new InputError(
    `the diffusion-matrix model '${spec.model}' is not supported by ${by}, which needs a scalar noise model with a closed-form steady state (multiplicative, additive or from-data); the diffusion-matrix models (docs/noise-matrix.md) are solved by \`fpsolve run\`'s non-reversible path`,
    { file, field: 'noise.model' },
  );
}
