#!/usr/bin/env bash
# Packs what bench/gpu-device.sh needs on a GPU machine that has no network and no Node (the
# workplace's device machines: an x86-64 CUDA image with Python but no Node, nothing fetchable;
# /work/.library/device/README.md). Run it HERE, in the repository root, once per change of the
# code; then carry `.devkit` (one path, about 45 MiB) to the device and run bench/gpu-device.sh.
#
#   bench/gpu-device-kit.sh            # build, then write .devkit/
#
# .devkit/ holds:
#   fpsolve-device-kit.tar.xz  unpacked at the repository root there:
#     .devkit/node/bin/node    this machine's Node (x86-64, needs only glibc and libstdc++)
#     dist/                    tsc output, the precompiled schemas and the esbuild bundle
#     node_modules/            the production dependencies (package-lock.json, not dev) plus gpu.js
#                              (src only: its own webgpu@0.2.9 and browser dist are not needed),
#                              acorn, gpu-mock.js and webgpu@0.6.2 (index.js and the linux-x64
#                              dawn.node only). No `gl`: headless-gl is not installed here and on a
#                              server it renders in software anyway (docs/gpujs.md §6).
#   debs/*.deb                 the Vulkan/EGL loaders (libvulkan1 libegl1 libglvnd0 libopengl0 libgl1
#                              libglx0 libgles2, amd64), unpacked there only if `ldconfig -p` lacks
#                              libvulkan.so.1 (the device README's recipe)
#   SIZES                      what each part weighs
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
kit=$root/.devkit
[ "$(uname -m)" = x86_64 ] || { echo "gpu-device-kit: this machine is $(uname -m); the device is x86-64: pack on x86-64" >&2; exit 2; }
mods=$(readlink -f node_modules)
[ -d "$mods/webgpu/dist/linux-x64" ] || { echo "gpu-device-kit: node_modules/webgpu (0.6.2, with dist/linux-x64) is missing" >&2; exit 2; }
[ -d "$mods/gpu.js/src" ] || { echo "gpu-device-kit: node_modules/gpu.js is missing" >&2; exit 2; }

echo "gpu-device-kit: building (tsc, schemas, bundle)" >&2
npx tsc -p tsconfig.json
node dist/src/schema-precompile.js
node scripts/bundle.mjs >/dev/null

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/.devkit/node/bin" "$stage/node_modules"
cp "$(readlink -f "$(command -v node)")" "$stage/.devkit/node/bin/node"
cp -a dist "$stage/dist"
# Production packages from the lock file; a nested one travels inside its parent's folder.
node -e '
  const lock = require(process.argv[1]);
  for (const [k, v] of Object.entries(lock.packages)) if (k.startsWith("node_modules/") && !k.slice(13).includes("/node_modules/") && !v.dev && !v.devOptional) console.log(k.slice("node_modules/".length));
' "$root/package-lock.json" | while read -r p; do
  if [ -e "$mods/$p" ]; then mkdir -p "$stage/node_modules/$(dirname "$p")"; cp -a "$mods/$p" "$stage/node_modules/$p"; fi
done
# The GPU peers, trimmed to what Node loads.
for p in acorn gpu-mock.js; do cp -a "$mods/$p" "$stage/node_modules/$p"; done
mkdir -p "$stage/node_modules/gpu.js" "$stage/node_modules/webgpu/dist"
cp -a "$mods/gpu.js/package.json" "$mods/gpu.js/LICENSE" "$mods/gpu.js/src" "$stage/node_modules/gpu.js/"
cp -a "$mods/webgpu/package.json" "$mods/webgpu/index.js" "$mods/webgpu/LICENSE.md" "$stage/node_modules/webgpu/"
cp -a "$mods/webgpu/dist/linux-x64" "$stage/node_modules/webgpu/dist/"

rm -rf "$kit"
mkdir -p "$kit/debs"
echo "gpu-device-kit: compressing (xz)" >&2
tar -C "$stage" -cf - .devkit/node dist node_modules | xz -T0 -6 >"$kit/fpsolve-device-kit.tar.xz"

# The loaders, as the device README prescribes (apt-get download needs this machine's network).
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial
if apt-get $o update >/dev/null 2>&1 && (cd "$kit/debs" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1); then
  :
else
  echo "gpu-device-kit: could not download the loader .debs (no apt network?): the device must have libvulkan.so.1 already" >&2
fi

{
  echo "packed $(date -u +%FT%TZ) from $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!.devkit' || echo ' (uncommitted changes)')"
  echo "node $(node -v) ($(du -b "$stage/.devkit/node/bin/node" | cut -f1) bytes)"
  du -sb "$stage/dist" "$stage/node_modules" "$stage/node_modules/webgpu" "$stage/node_modules/mathjs" | sed "s|$stage/||"
  du -b "$kit/fpsolve-device-kit.tar.xz" "$kit"/debs/*.deb 2>/dev/null | sed "s|$kit/||"
  du -sb "$kit" | sed "s|$kit|.devkit total|"
} >"$kit/SIZES"
cat "$kit/SIZES" >&2
echo "gpu-device-kit: done; carry [\".devkit\"] and run: bash bench/gpu-device.sh" >&2
