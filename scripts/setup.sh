#!/usr/bin/env bash
# Machine setup shared by the README's two commands and .ci/run: Debian packages the tests need
# (Chromium for SwiftShader's Vulkan driver and browser tests, libvulkan1), then npm packages.
# Source it (`. scripts/setup.sh`) to also get the WebGPU-in-Node environment exported.
set -euo pipefail
# Always from the repository root: `npm ci` in a workspace folder would prune the shared install.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s libvulkan1 >/dev/null 2>&1 || need+=(libvulkan1)
# The ONNX exporter (npm run export-onnx, tools/fixtures/export_hf.py) needs numpy and onnx, not torch.
dpkg -s python3-numpy >/dev/null 2>&1 || need+=(python3-numpy)
dpkg -s python3-onnx >/dev/null 2>&1 || need+=(python3-onnx)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# WebGPU in Node through SwiftShader (see shared SETUP.md): Dawn needs a Vulkan ICD; Chromium ships one.
if [ -z "${VK_ICD_FILENAMES:-}" ]; then
  VK_ICD_FILENAMES="$(dpkg -L chromium-common 2>/dev/null | grep vk_swiftshader_icd.json | head -n1 || true)"
  export VK_ICD_FILENAMES
fi
if [ -z "${VK_ICD_FILENAMES}" ]; then
  echo "setup: warning: SwiftShader's vk_swiftshader_icd.json (package chromium-common) was not found;" \
    "the WebGPU tests (project kernels-webgpu) will fail with 'no WebGPU adapter'" >&2
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
# onnxruntime-node must not try to download CUDA binaries (same as .npmrc; survives future npm).
export ONNXRUNTIME_NODE_INSTALL=skip
export TURBO_TELEMETRY_DISABLED=1

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

# Peer engines for the benchmarks, apart from the workspaces (tools/peers/README.md): node-llama-cpp
# with only its prebuilt CPU llama.cpp (@node-llama-cpp/linux-x64, a direct dependency there).
# --omit=optional keeps out its CUDA/Vulkan packages (~600 MB) without touching the root install's
# platform binaries (esbuild, rollup); --ignore-scripts (and NODE_LLAMA_CPP_SKIP_DOWNLOAD) skip its
# postinstall, which probes for GPU builds and, if no prebuilt binary loads, compiles llama.cpp from
# its bundled source with cmake. `npm install` (versions from the lock file, left as is), not
# `npm ci`: npm ci counts the other platforms' optional packages that a registry lacks as a lock
# mismatch. Never fatal: without it the benches and the parity test say the peer is absent.
if [ "${HASTEN_SKIP_PEERS:-}" != "1" ] && [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] &&
  { [ ! -d tools/peers/node_modules/node-llama-cpp ] ||
    [ tools/peers/package-lock.json -nt tools/peers/node_modules/.package-lock.json ]; }; then
  echo "setup: tools/peers (node-llama-cpp, prebuilt CPU binaries only)"
  (cd tools/peers && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --no-save --omit=optional \
    --ignore-scripts --no-audit --no-fund) ||
    echo "setup: warning: node-llama-cpp could not be installed in tools/peers; the models bench" \
      "runs without its llama.cpp peer" >&2
fi
