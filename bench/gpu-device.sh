#!/usr/bin/env bash
# The device check of issue #22.2 (docs/gpu.md, "Running the device check"): on a machine with a
# GPU, the reference problem at 512², 1024², 2048² and 128³ to t = 1 on the GPU against float64 on
# the CPU, in one run of at most 8 minutes; writes bench/results-gpu.json (what `--backend auto`
# reads) and the generated section of bench/results-gpu.md.
#
#   bash bench/gpu-device.sh                 # on the GPU machine (after bench/gpu-device-kit.sh here)
#   bash bench/gpu-device.sh --software      # here: tiny grids, Mesa (CI_SOFT_GPU=1) or webasm
#   bash bench/gpu-device.sh -- --sizes 1024 # extra arguments for test/bench/gpu-device.ts
#
# "Installs what it needs" from what travelled, with no network: where node_modules is absent (it is
# git-ignored, so it does not travel) and .devkit/fpsolve-device-kit.tar.xz is present, the kit is
# unpacked at the repository root (Node, dist/, node_modules/); the Vulkan loaders in .devkit/debs
# are unpacked into / when ldconfig lacks libvulkan.so.1. Exit codes: 0 done, 2 set-up missing,
# 3 no hardware GPU (a software renderer is refused), 74 the results cannot be written (checked
# before any run; neither file is left half-updated), else the driver's.
set -uo pipefail
cd "$(dirname "$0")/.."
software=0
args=()
for a in "$@"; do
  case "$a" in
    --software|--dry-run) software=1 ;;
    --) ;;
    *) args+=("$a") ;;
  esac
done
say() { echo "gpu-device.sh: $*" >&2; }

if [ ! -e node_modules ] && [ -f .devkit/fpsolve-device-kit.tar.xz ]; then
  say "unpacking .devkit/fpsolve-device-kit.tar.xz (Node, dist/, node_modules/)"
  tar -xJf .devkit/fpsolve-device-kit.tar.xz || { say "the kit did not unpack"; exit 2; }
fi
[ -x .devkit/node/bin/node ] && export PATH="$PWD/.devkit/node/bin:$PATH"
command -v node >/dev/null || { say "no Node.js: run bench/gpu-device-kit.sh where the code is and carry .devkit"; exit 2; }
[ -e node_modules/gpu.js ] || { say "node_modules/gpu.js is missing: carry .devkit (bench/gpu-device-kit.sh) or npm install gpu.js webgpu@^0.6.2"; exit 2; }
[ -f dist/test/bench/gpu-device.js ] || { say "dist/test/bench/gpu-device.js is missing: build first (npx tsc -p tsconfig.json && node dist/src/schema-precompile.js)"; exit 2; }

if [ "$software" = 1 ]; then
  # Mesa's OpenGL ES adapter through Dawn where it loads (docs/gpujs.md §3); the driver falls back to webasm.
  export CI_SOFT_GPU=1 EGL_PLATFORM=surfaceless
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
  args=(--software "${args[@]}")
else
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
    # Only where a GPU device node shows this is the device machine: never over a workstation's /.
    if ls .devkit/debs/*.deb >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && ls /dev/nvidia[0-9]* /dev/dri/renderD* >/dev/null 2>&1; then
      say "no libvulkan.so.1: unpacking the loaders from .devkit/debs"
      for f in .devkit/debs/*.deb; do dpkg -x "$f" /; done
      ldconfig
    else
      say "no libvulkan.so.1, and the loaders in .devkit/debs were not unpacked (none there, not root, or no GPU device node): Dawn will find no Vulkan adapter"
    fi
  fi
  # The NVIDIA driver's ICD where the image keeps it outside the loader's search path.
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$icd
  fi
  egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2
fi
say "node $(node -v); running test/bench/gpu-device.ts ${args[*]:-}"
node dist/test/bench/gpu-device.js "${args[@]}"
