/**
 * Sharding a sweep by point index: shard k of n (1-based k) runs the points numbered k, k+n,
 * k+2n, … counting from 1, i.e. the 0-based indices i with i mod n = k − 1.
 */
import { InputError } from '../errors.js';

export interface Shard {
  /** 1-based shard number. */
  k: number;
  n: number;
}

const SHARD = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

function slurmInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v)) throw new InputError(`--shard auto: ${name} must be an integer (got ${JSON.stringify(raw)})`);
  return v;
}

/**
 * The shard of a Slurm job-array task. Arrays may start at 0 or 1 and have a step
 * (--array=0-15, 1-16, 0-30:2), so the shard number is the task's position in the array, not
 * SLURM_ARRAY_TASK_ID itself.
 */
export function shardFromSlurm(env: NodeJS.ProcessEnv = process.env): Shard {
  const id = slurmInt(env, 'SLURM_ARRAY_TASK_ID');
  if (id === undefined) throw new InputError('--shard auto: SLURM_ARRAY_TASK_ID is not set (not inside a Slurm job array); use --shard k/n');
  const min = slurmInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
  const max = slurmInt(env, 'SLURM_ARRAY_TASK_MAX');
  const step = slurmInt(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
  const count = slurmInt(env, 'SLURM_ARRAY_TASK_COUNT');
  if (step < 1) throw new InputError(`--shard auto: SLURM_ARRAY_TASK_STEP must be >= 1 (got ${step})`);
  const n = count ?? (max !== undefined ? Math.floor((max - min) / step) + 1 : undefined);
  if (n === undefined) throw new InputError('--shard auto: needs SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MIN/MAX besides SLURM_ARRAY_TASK_ID');
  if ((id - min) % step !== 0) throw new InputError(`--shard auto: SLURM_ARRAY_TASK_ID ${id} is not in the array ${min}-${max ?? '?'}:${step}`);
  const k = (id - min) / step + 1;
  if (k < 1 || k > n) throw new InputError(`--shard auto: SLURM_ARRAY_TASK_ID ${id} is outside the array (min ${min}, ${n} tasks)`);
  return { k, n };
}

/** `k/n` (1 <= k <= n) or `auto` (Slurm array variables). */
export function parseShard(text: string, env: NodeJS.ProcessEnv = process.env): Shard {
  if (text.trim() === 'auto') return shardFromSlurm(env);
  const m = SHARD.exec(text);
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) throw new InputError(`--shard must be k/n with 1 <= k <= n (e.g. 3/16) or auto (got ${JSON.stringify(text)})`);
  return { k, n };
}

export function inShard(index: number, shard: Shard | null): boolean {
  return shard === null || index % shard.n === shard.k - 1;
}
