#!/bin/bash
# The same sweep as 4 shards run by GNU parallel (on one machine, or add -S host1,host2 for
# several over ssh with a shared filesystem), then merged. {} is the shard number 1..4.
# Run from the root of the clone (after `npm ci`): bash examples/gnu-parallel-sweep.sh
set -euo pipefail
# The first `npx fpsolve` in a clone installs it into npx's cache; do it once, not in 4 shards at once.
npx fpsolve --version >/dev/null
parallel -j 4 npx fpsolve sweep scenarios/double-well-1d.yaml \
  --set "'noise.eta=logspace(-2,0,9)'" --set noise.sigma=1,2,4 \
  --jobs 1 --quiet --shard {}/4 --out sweeps/dw-{} ::: 1 2 3 4
npx fpsolve sweep merge sweeps/dw-1 sweeps/dw-2 sweeps/dw-3 sweeps/dw-4 --out sweeps/dw
