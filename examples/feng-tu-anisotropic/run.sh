#!/bin/sh
# The Feng–Tu anisotropic-noise study (README.md): two runs and their comparison.
#   sh examples/feng-tu-anisotropic/run.sh [OUTDIR]
set -e
here=$(dirname "$0")
out=${1:-runs/feng-tu-anisotropic}
npx fpsolve run "$here/hessian.yaml" --out "$out/hessian" --plots --quiet
npx fpsolve run "$here/isotropic.yaml" --out "$out/isotropic" --plots --quiet
node "$here/compare.mjs" "$out/hessian" "$out/isotropic" "$out"
