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
