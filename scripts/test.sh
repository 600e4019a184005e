#!/usr/bin/env bash
# Runs the whole test suite in release mode (numeric code is 10-100x slower in debug), with
# -enable-testing so tests may use @testable imports. The CLI tests run the built
# executables, which `swift build` makes first with the same flags (one build, not two).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}"
swift test "${flags[@]}" "$@"
