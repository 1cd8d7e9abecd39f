#!/bin/bash
# A sweep as a Slurm job array: 16 tasks, each runs every 16th point of the 27-point sweep
# (--shard auto reads SLURM_ARRAY_TASK_ID and the array's MIN/MAX/COUNT), then one job merges.
#
#   jobid=$(sbatch --parsable examples/slurm-sweep.sh)
#   sbatch --dependency=afterok:$jobid --wrap 'npx fpsolve sweep merge sweeps/dw-*/ --out sweeps/dw'
#
# A task that hits its time limit gets SIGTERM, keeps its finished points and exits 143;
# resubmitting the array (or `sbatch --array=<failed ids>`) resumes where each task stopped.
#SBATCH --job-name=fpsolve-sweep
#SBATCH --array=1-16
#SBATCH --cpus-per-task=2
#SBATCH --mem-per-cpu=2G
#SBATCH --time=01:00:00
#SBATCH --output=logs/sweep-%A_%a.out
set -euo pipefail
mkdir -p logs
npx fpsolve sweep scenarios/double-well-1d.yaml \
  --set 'noise.eta=logspace(-2,0,9)' --set 'noise.sigma=1,2,4' \
  --jobs "${SLURM_CPUS_PER_TASK:-1}" --shard auto --out "sweeps/dw-${SLURM_ARRAY_TASK_ID}"
