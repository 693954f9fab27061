#!/usr/bin/env bash
# Sets up a fresh machine and runs every check: lint, typecheck, the whole test suite.
# This is the README's test command and what .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
npm run lint
npm run typecheck
npm test
