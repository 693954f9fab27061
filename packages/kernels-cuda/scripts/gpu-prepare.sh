#!/usr/bin/env bash
# Run HERE (the machine without a GPU) before scripts/gpu-check.sh runs on the GPU machine, which has
# nvcc, PyTorch and Python but no Node.js and no node_modules. It fills packages/kernels-cuda/.gpu-carry/
# (git-ignored) with what the GPU side needs, and builds the addon for sm_90 as a fallback:
#   node.xz            this machine's node binary, xz-compressed
#   node-include/      Node-API's headers (node_api.h ...), to build the addon there with its nvcc
#   napi-include/      node-addon-api's headers
#   kernels-gpu-test.mjs.txt  src/kernels.gpu.test.ts bundled with a vitest stand-in (scripts/gpu/vitest-shim.mjs)
#   gpu-bench.mjs.txt  bench/gpu-bench.ts bundled
#   (the .txt keeps the repository's linter off the bundles; gpu-check.sh copies them to .mjs to run)
#   commit.txt         the commit (and whether the tree was dirty)
# Then call the device tool with carry ["packages/kernels-cuda/.gpu-carry", "packages/kernels-cuda/build"]
# and the command `bash packages/kernels-cuda/scripts/gpu-check.sh` (see README.md).
set -euo pipefail
PKG="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$PKG/../.." && pwd)"
CARRY="$PKG/.gpu-carry"
mkdir -p "$CARRY"

echo "gpu-prepare: building the addon here (default archs 80;90: the fallback if the GPU-side build fails)"
HASTEN_CUDA_BUILD=force node "$PKG/scripts/build-addon.mjs" --quiet

echo "gpu-prepare: bundling the device tests and the benchmark"
ESBUILD="$ROOT/node_modules/.bin/esbuild"
common=(--bundle --platform=node --format=esm --target=node20 --conditions=@hasten/source --log-level=warning)
rm -f "$CARRY"/*.mjs
"$ESBUILD" "$PKG/src/kernels.gpu.test.ts" "${common[@]}" "--alias:vitest=$PKG/scripts/gpu/vitest-shim.mjs" \
  --outfile="$CARRY/kernels-gpu-test.mjs.txt"
"$ESBUILD" "$PKG/bench/gpu-bench.ts" "${common[@]}" --outfile="$CARRY/gpu-bench.mjs.txt"

echo "gpu-prepare: node binary and headers"
NODE_BIN="$(command -v node)"
if [ ! -f "$CARRY/node.xz" ] || [ "$NODE_BIN" -nt "$CARRY/node.xz" ]; then
  xz -T2 -6 -c "$NODE_BIN" > "$CARRY/node.xz"
fi
NODE_INC="$(dirname "$(dirname "$NODE_BIN")")/include/node"
rm -rf "$CARRY/node-include" "$CARRY/napi-include"
mkdir -p "$CARRY/node-include"
# Node-API needs only these (node-addon-api's napi.h includes node_api.h); the full folder is ~50 MB.
cp "$NODE_INC"/node_api.h "$NODE_INC"/node_api_types.h "$NODE_INC"/js_native_api.h \
  "$NODE_INC"/js_native_api_types.h "$NODE_INC"/node_version.h "$CARRY/node-include/"
mkdir -p "$CARRY/napi-include"
NAPI="$(cd "$PKG" && node -p "require('node:path').dirname(require.resolve('node-addon-api/package.json'))")"
cp "$NAPI"/*.h "$CARRY/napi-include/"

{
  git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown
  git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo dirty || echo clean
} > "$CARRY/commit.txt"
du -sh "$CARRY" "$PKG/build/Release"
echo "gpu-prepare: done; carry packages/kernels-cuda/.gpu-carry and packages/kernels-cuda/build"
