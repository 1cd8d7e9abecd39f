#!/usr/bin/env bash
# Runs the cluster examples as a user would, on a fresh clone of this repository's HEAD, and checks
# that their merged results equal a single-machine sweep of the same points (docs/sweep.md, "What CI
# checks"):
#   1. examples/slurm-sweep.sh under a real single-node Slurm started here (.ci/slurm-cluster.sh):
#      `bash examples/slurm-sweep.sh` submits the 16-task array and the afterok merge; wait for both;
#   2. examples/gnu-parallel-sweep.sh on the same clone, reset to its fresh state.
#
#   bash .ci/cluster-check.sh [slurm|parallel|all]
#
# With CI set, a check that cannot run (no root, Slurm or GNU parallel missing) fails; elsewhere it is
# skipped with the reason. A Slurm that does not start, a job that fails, or jobs still unfinished
# after FPSOLVE_SLURM_TIMEOUT seconds (default 300) fail with the job states and the logs' tails.
# FPSOLVE_CLUSTER_KEEP=1 keeps the work folder (clone, Slurm state and logs) for a look afterwards.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
case "$what" in slurm|parallel|all) ;; *) echo "usage: $0 [slurm|parallel|all]" >&2; exit 2 ;; esac
timeout_s=${FPSOLVE_SLURM_TIMEOUT:-300}
# shellcheck source=.ci/slurm-cluster.sh
source "$repo/.ci/slurm-cluster.sh"

say() { echo "cluster-check: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
# A check that cannot run here: a failure in CI, a skip on a developer's machine.
cannot_run() {
  if [ -n "${CI:-}" ]; then fail "$*"; fi
  say "skipped: $*"
}

# What can run here, decided before anything is cloned or built.
do_slurm="" do_parallel=""
if [ "$what" = slurm ] || [ "$what" = all ]; then
  if why=$(slurm_missing); then do_slurm=1; else cannot_run "Slurm: $why"; fi
fi
if [ "$what" = parallel ] || [ "$what" = all ]; then
  if command -v parallel >/dev/null 2>&1; then do_parallel=1; else cannot_run "GNU parallel is not installed"; fi
fi
[ -n "$do_slurm$do_parallel" ] || exit 0

work=$(mktemp -d "${TMPDIR:-/tmp}/fpsolve-cluster.XXXXXX")
chmod 755 "$work" # munge wants its socket reachable by every user
slurm_dir="$work/slurm"
slurm_started=""
cleanup() {
  local rc=$?
  if [ -n "$slurm_started" ]; then slurm_down "$slurm_dir"; fi
  if [ -n "${FPSOLVE_CLUSTER_KEEP:-}" ]; then say "kept $work"; else
    # npx remembered the clone as an installed package (~/.npm/_npx/<hash>): forget only that one.
    local cache f
    cache=$(npm config get cache 2>/dev/null || true)
    for f in "$cache"/_npx/*/package.json; do
      [ -f "$f" ] && grep -qF "\"$work/clone\"" "$f" && rm -rf "$(dirname "$f")"
    done
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The same points as both examples; the comparison also checks the manifests' point lists agree.
sweep_args=(scenarios/double-well-1d.yaml --set 'noise.eta=logspace(-2,0,9)' --set 'noise.sigma=1,2,4')

# --- a fresh clone, set up as the README says (npm ci: dependencies, then the build) -------------
# safe.directory: CI's root may clone a checkout another user owns.
git_repo() { git -c safe.directory="$repo" -c safe.directory="$repo/.git" "$@"; }
[ -z "$(git_repo -C "$repo" status --porcelain --untracked-files=no)" ] \
  || say "note: testing the committed HEAD; uncommitted changes in $repo are not in the clone"
git_repo clone -q "$repo" "$work/clone"
clone="$work/clone"
say "clone of $(git -C "$clone" rev-parse --short HEAD) in $clone"
# The dependencies npm ci installed in this checkout (same package-lock), instead of a second install.
[ -d "$repo/node_modules" ] || fail "no node_modules in $repo: run npm ci there first"
ln -s "$repo/node_modules" "$clone/node_modules"
(cd "$clone" && npm run --silent build >&2) || fail "npm run build failed in the clone"

# The same sweep unsharded on this machine; made after the first example ran, so that the example
# meets the clone as a user would (npx has not installed fpsolve from it yet).
reference() {
  if [ ! -f "$work/reference/sweep.json" ]; then
    say "reference: the same sweep unsharded on this machine"
    (cd "$clone" && npx fpsolve sweep "${sweep_args[@]}" --jobs "$(nproc)" --quiet --out "$work/reference" >&2) \
      || fail "the single-machine reference sweep exited $?"
  fi
}

show_jobs() {
  local id line
  for id in "$@"; do
    scontrol -o show job "$id" 2>/dev/null | while read -r line; do
      echo "  $(grep -oE '(^| )(JobId|ArrayTaskId|JobName|JobState|Reason|ExitCode)=[^ ]+' <<<"$line" | paste -sd' ')" >&2
    done
  done
}
slurm_failure() {
  say "FAIL: $1"
  say "jobs:"
  show_jobs "${@:2}"
  local f
  for f in "$clone"/logs/*.out "$clone"/fpsolve-sweep-*.out; do
    [ -f "$f" ] || continue
    echo "---- last lines of ${f#"$clone"/}" >&2
    tail -n 15 "$f" >&2
  done
  _slurm_tail_logs "$slurm_dir"
  exit 1
}

check_slurm() {
  slurm_started=1
  # A task of the example spends most of its time starting node processes, one core at a time:
  # declaring twice the cores lets two 2-CPU tasks share them and halves the array's time in CI.
  FPSOLVE_SLURM_CPUS=${FPSOLVE_SLURM_CPUS:-$((2 * $(nproc)))} slurm_up "$slurm_dir" || fail "Slurm did not start (above: why, and the daemons' logs)"

  say "slurm: bash examples/slurm-sweep.sh"
  local out array merge
  out=$(cd "$clone" && bash examples/slurm-sweep.sh) || slurm_failure "examples/slurm-sweep.sh exited $? while submitting"
  echo "$out" >&2
  array=$(sed -nE 's/^array job ([0-9]+):.*/\1/p' <<<"$out")
  merge=$(sed -nE 's/^merge job ([0-9]+):.*/\1/p' <<<"$out")
  [ -n "$array" ] && [ -n "$merge" ] || slurm_failure "could not read the two job ids from the example's output"

  local deadline=$((SECONDS + timeout_s)) state
  while :; do
    state=$(scontrol -o show job "$merge" 2>/dev/null | sed -nE 's/.*JobState=([A-Z_]+).*/\1/p')
    case "$state" in
      COMPLETED) break ;;
      PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|"") ;;
      *) slurm_failure "merge job $merge ended $state (a failed array task cancels it)" "$array" "$merge" ;;
    esac
    # Slurm cancels the merge only once the whole array has ended; a failed task is known sooner.
    if scontrol -o show job "$array" 2>/dev/null | grep -qE 'JobState=(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)'; then
      slurm_failure "a task of array $array failed" "$array" "$merge"
    fi
    [ $SECONDS -lt $deadline ] || slurm_failure "array $array and merge $merge not finished after ${timeout_s}s" "$array" "$merge"
    sleep 2
  done
  # afterok already implies it; a merge that ran after a failed task would be the example's bug.
  local tasks bad
  tasks=$(scontrol -o show job "$array" | grep -c 'ArrayTaskId=' || true)
  bad=$(scontrol -o show job "$array" | grep -vc 'JobState=COMPLETED .*ExitCode=0:0' || true)
  [ "$tasks" -eq 16 ] && [ "$bad" -eq 0 ] || slurm_failure "array $array: $tasks tasks, $bad not completed with exit 0" "$array"
  say "slurm: 16 tasks and the merge completed in $((SECONDS - deadline + timeout_s))s"
  reference
  node "$repo/.ci/compare-sweeps.mjs" "$work/reference" "$clone/sweeps/dw" || slurm_failure "Slurm's merged sweep differs from the reference"

  slurm_down "$slurm_dir"
  slurm_started=""
}

check_parallel() {
  # Back to a fresh clone: no outputs of an earlier example, nothing untracked.
  rm -rf "$clone/sweeps" "$clone/logs" "$clone"/fpsolve-sweep-*.out
  [ -z "$(git -C "$clone" status --porcelain)" ] || fail "the clone is not clean before the GNU parallel example: $(git -C "$clone" status --porcelain | head -5)"
  say "parallel: bash examples/gnu-parallel-sweep.sh"
  local t0=$SECONDS
  (cd "$clone" && bash examples/gnu-parallel-sweep.sh) || fail "examples/gnu-parallel-sweep.sh exited $?"
  say "parallel: 4 shards and the merge in $((SECONDS - t0))s"
  reference
  node "$repo/.ci/compare-sweeps.mjs" "$work/reference" "$clone/sweeps/dw" || fail "GNU parallel's merged sweep differs from the reference"
}

if [ "$do_slurm" ]; then check_slurm; fi
if [ "$do_parallel" ]; then check_parallel; fi
say "done"
