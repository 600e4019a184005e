#!/usr/bin/env bash
# Runs the whole test suite in release mode (numeric code is 10-100x slower in debug), with
# -enable-testing so tests may use @testable imports. The CLI tests run the built
# executables, which `swift build` makes first with the same flags (one build, not two).
# First checks the layer order (scripts/check-layers.sh). Ends with one plain line "N passed, F failed[, S skipped]" counted from XCTest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/check-layers.sh   # dependencies point down only (the table: docs/ARCHITECTURE.md)
flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test "${flags[@]}" --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# XCTest's last "Executed N tests, with [S tests skipped and ]F failures" line is the total over
# all suites (a skipped test, e.g. bf16 on a CPU without it, is counted apart, not as passed).
summary=$(grep -E "Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?" "$log" | tail -n 1 || true)
if [ -n "$summary" ]; then
  total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
  failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) failures?.*/\1/')
  skipped=0
  if echo "$summary" | grep -qE '[0-9]+ tests? skipped'; then
    skipped=$(echo "$summary" | sed -E 's/.*with ([0-9]+) tests? skipped.*/\1/')
  fi
  echo "$((total - failed - skipped)) passed, $failed failed$([ "$skipped" -gt 0 ] && echo ", $skipped skipped")"
fi
exit "$status"
