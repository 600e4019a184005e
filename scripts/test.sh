#!/usr/bin/env bash
# Runs the whole test suite in release mode (numeric code is 10-100x slower in debug).
# The CLI tests run the built executables, so they are built first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
swift test -c release "$@"
