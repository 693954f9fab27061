#!/usr/bin/env bash
# The GPU-machine check of @hasten/kernels-cuda, in one command (about 4-8 minutes):
#   1. build the addon there with its nvcc for sm_90 (falls back to the carried sm_90 build)
#   2. run every device test (src/kernels.gpu.test.ts, bundled): each kernel version against its CPU
#      reference on fresh random inputs
#   3. PyTorch baselines on the same GPU (scripts/gpu/torch_bench.py)
#   4. our benchmarks (bench/gpu-bench.ts, bundled): GEMM 4096^3 bf16 and decode shapes, attention
#      prefill and decode, decode bandwidth against the measured device copy ceiling
#   5. JSON with the device name and the commit: bench-results/kernels-cuda/gpu-check-<commit>.json,
#      and every result file also under $OUT (what the device tool brings back).
# Prerequisite, on the machine without a GPU: bash packages/kernels-cuda/scripts/gpu-prepare.sh
# Device call: command `bash packages/kernels-cuda/scripts/gpu-check.sh`, carry
# ["packages/kernels-cuda/.gpu-carry", "packages/kernels-cuda/build"], timeout_s 540.
set -uo pipefail
PKG="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$PKG/../.." && pwd)"
CARRY="$PKG/.gpu-carry"
OUTDIR="${OUT:-/tmp/hasten-gpu-check}"
mkdir -p "$OUTDIR" "$ROOT/bench-results/kernels-cuda"
LOG="$OUTDIR/gpu-check.log"
exec > >(tee -a "$LOG") 2>&1
start=$(date +%s)
stamp() { echo "[gpu-check +$(($(date +%s) - start))s] $*"; }

[ -d "$CARRY" ] || { echo "gpu-check: $CARRY is missing: run scripts/gpu-prepare.sh first and carry it"; exit 2; }
NODE="$(command -v node || true)"
if [ -z "$NODE" ]; then
  NODE=/tmp/hasten-node
  xz -dc "$CARRY/node.xz" > "$NODE" && chmod +x "$NODE" || { echo "gpu-check: cannot unpack $CARRY/node.xz"; exit 2; }
fi
RUN=/tmp/hasten-gpu-run
mkdir -p "$RUN"
cp "$CARRY/kernels-gpu-test.mjs.txt" "$RUN/kernels-gpu-test.mjs"
cp "$CARRY/gpu-bench.mjs.txt" "$RUN/gpu-bench.mjs"
COMMIT="$(head -n1 "$CARRY/commit.txt" 2>/dev/null || echo unknown)"
DEVICE="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1)"
stamp "node $("$NODE" --version), device '${DEVICE:-none}', commit $COMMIT"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv 2>/dev/null
command -v nvcc >/dev/null && nvcc --version | tail -n2

stamp "1. build the addon with this machine's nvcc (sm_90)"
ADDON="$PKG/build/Release/hasten_cuda.node"
if HASTEN_NODE_INCLUDE="$CARRY/node-include" HASTEN_NAPI_INCLUDE="$CARRY/napi-include" HASTEN_CUDA_ARCHS=90 \
  HASTEN_BUILD_JOBS=12 HASTEN_CUDA_BUILD=force timeout 300 "$NODE" "$PKG/scripts/build-addon.mjs" --out /tmp/hasten-cuda-build --quiet; then
  ADDON=/tmp/hasten-cuda-build/Release/hasten_cuda.node
  stamp "built $ADDON"
else
  stamp "build here failed; using the carried build $ADDON"
fi
export HASTEN_CUDA_ADDON="$ADDON"

stamp "2. device tests (every kernel version vs its CPU reference)"
HASTEN_GPU_TEST_JSON="$OUTDIR/device-tests.json" timeout 240 "$NODE" "$RUN/kernels-gpu-test.mjs" > "$OUTDIR/device-tests.log" 2>&1
tests_rc=$?
grep -E '^(FAIL|device tests:)' -A1 "$OUTDIR/device-tests.log" | head -n 60
stamp "device tests exit code $tests_rc"

stamp "3. PyTorch baselines"
PYTHONUNBUFFERED=1 timeout 150 python3 "$PKG/scripts/gpu/torch_bench.py" "$OUTDIR/torch.json" || stamp "torch baselines failed"

stamp "4. benchmarks"
timeout 180 "$NODE" "$RUN/gpu-bench.mjs" "$OUTDIR/gpu-check.json" "$OUTDIR/torch.json" "$COMMIT" "${DEVICE:-unknown}"
bench_rc=$?
stamp "benchmarks exit code $bench_rc"

short="$(echo "$COMMIT" | cut -c1-12)"
[ -f "$OUTDIR/gpu-check.json" ] && cp "$OUTDIR/gpu-check.json" "$ROOT/bench-results/kernels-cuda/gpu-check-$short.json"
[ -f "$OUTDIR/device-tests.json" ] && cp "$OUTDIR/device-tests.json" "$ROOT/bench-results/kernels-cuda/device-tests-$short.json"
stamp "done: results in $OUTDIR"
[ "$tests_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ]
