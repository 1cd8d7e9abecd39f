#!/bin/sh
# The critical-noise phase diagram (README.md in this folder): 8 points on 16³ cells, about a
# minute with 2 jobs. Rerunning resumes; `--out` may be any directory.
set -e
cd "$(dirname "$0")/../.."
npx fpsolve sweep examples/critical-noise/sweep.yaml --jobs 2 --out "${1:-sweeps/critical-noise}"
