#!/usr/bin/env bash
# Sets up a fresh machine and runs every check: lint, typecheck, the whole test suite.
# This is the README's test command and what .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
# The optional CUDA addon (@hasten/kernels-cuda): CI compiles every kernel with nvcc when it is
# present (this machine kind has nvcc, no GPU); without nvcc this prints one line and goes on.
HASTEN_CUDA_BUILD="${HASTEN_CUDA_BUILD:-auto}" npm run build:addon -w @hasten/kernels-cuda --silent
# The optional native CPU kernels (@hasten/kernels-cpu): built with the C++ compiler when there is
# one (seconds); without one this prints one line and its tests skip.
HASTEN_CPU_BUILD="${HASTEN_CPU_BUILD:-auto}" npm run build:addon -w @hasten/kernels-cpu --silent
npm run lint
npm run typecheck
npm test
