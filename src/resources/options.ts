import { InvalidArgumentError, Option } from 'commander';
import { InputError } from '../errors.js';
import { parseByteSize, type MemoryLimit } from './memory.js';

/**
 * `--max-memory <size>` for any command that builds a grid; parsed to a MemoryLimit whose source
 * names the option in refusal messages. Absent: defaultMemoryLimit().
 */
export const maxMemoryOption = (): Option =>
  new Option(
    '--max-memory <size>',
    "refuse a run whose estimated memory exceeds <size>, e.g. 8G, 512M, 2GiB (default: $FPSOLVE_MAX_MEMORY, else 80% of the machine's memory)",
  ).argParser((v: string): MemoryLimit => {
    try {
      return { bytes: parseByteSize(v), source: `--max-memory ${v}` };
    } catch (e) {
      throw new InvalidArgumentError(e instanceof InputError ? e.message.replace(/^--max-memory /, '') : String(e));
    }
  });
