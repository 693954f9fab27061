#!/usr/bin/env bash
# Sets up a fresh machine and runs the main job on the bundled fixture models.
# Until the playground exists (a later issue) this is the end-to-end demo: load the committed
# code model, generate Python with the native CPU path and with ONNX Runtime, report speed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
npm run demo -- "$@"
