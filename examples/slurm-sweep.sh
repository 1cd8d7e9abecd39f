#!/bin/bash
# A sweep as a Slurm job array: 16 tasks, each runs every 16th point of the 27-point sweep
# (--shard auto reads SLURM_ARRAY_TASK_ID and the array's MIN/MAX/COUNT), then one job merges.
# From the root of the clone (after `npm ci`), submit both with
#
#   bash examples/slurm-sweep.sh
#
# It makes logs/ first (Slurm opens a task's output file before the task starts, so an output
# path into a missing folder kills every task unseen), checks that fpsolve runs here, submits
# this script as the array and `fpsolve sweep merge` with --dependency=afterok on the array, and
# prints both job ids. Results: sweeps/dw-<task>/ per task, sweeps/dw/ merged (summary.csv).
# `sbatch examples/slurm-sweep.sh` alone submits only the array, with its logs in the current folder.
#
# If a task fails, the merge is cancelled rather than left pending forever (--kill-on-invalid-dep).
# A task that hits its time limit gets SIGTERM, keeps its finished points and exits 143;
# `bash examples/slurm-sweep.sh` again resumes: every task skips the points it has finished, and
# the merge runs again. Resubmit the whole array, not some ids (--array=3,7): --shard auto counts
# the tasks of the array it is in, so a smaller array means other shards (refused, exit 2).
#SBATCH --job-name=fpsolve-sweep
#SBATCH --array=1-16
#SBATCH --cpus-per-task=2
#SBATCH --mem-per-cpu=2G
#SBATCH --time=01:00:00
#SBATCH --output=fpsolve-sweep-%A_%a.out
set -euo pipefail

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
  # Submitting: run by hand (also from inside an salloc session, which is a job but no array task).
  mkdir -p logs
  # Fail now rather than in 16 queued tasks when fpsolve is not built or installed here. The
  # first `npx fpsolve` in a clone also installs it into npx's cache; doing it once here keeps the
  # tasks from all doing it at the same time.
  npx fpsolve --version >/dev/null
  array=$(sbatch --parsable --output='logs/sweep-%A_%a.out' "$0")
  array=${array%%;*} # --parsable prints "id" or "id;cluster"
  merge=$(sbatch --parsable --job-name=fpsolve-sweep-merge --output='logs/merge-%j.out' \
    --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --wrap 'npx fpsolve sweep merge sweeps/dw-*/ --out sweeps/dw')
  merge=${merge%%;*}
  echo "array job $array: logs in logs/sweep-${array}_*.out, results in sweeps/dw-*/"
  echo "merge job $merge: starts when every task has succeeded, log logs/merge-$merge.out, results in sweeps/dw/"
  exit 0
fi

npx fpsolve sweep scenarios/double-well-1d.yaml \
  --set 'noise.eta=logspace(-2,0,9)' --set 'noise.sigma=1,2,4' \
  --jobs "${SLURM_CPUS_PER_TASK:-1}" --shard auto --out "sweeps/dw-${SLURM_ARRAY_TASK_ID}"
