#!/usr/bin/env bash
# Re-runs every failing input a fuzz run kept (.build-fuzz/artifacts/NAME/*/...) on its own and
# prints one line each: what it is (ASan report, timeout, leak, trap) and where — the first
# frame in vmae's sources, or in libhdf5 when the fault is inside the library.
#   Fuzz/triage.sh NAME
set -uo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: Fuzz/triage.sh NAME}
export LSAN_OPTIONS=suppressions=$PWD/Fuzz/lsan.supp ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
for a in .build-fuzz/artifacts/"$name"/*/*; do
  [ -e "$a" ] || continue
  out=$(timeout 30 ".build-fuzz/release/fuzz-$name" -malloc_limit_mb=2000000000 -timeout=10 "$a" 2>&1); rc=$?
  what=$(echo "$out" | grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+|Fatal error: [^(]*|Precondition failed[^/]*' || true)
  [ $rc -eq 124 ] && what="hang (no result in 30 s)"
  where=$(echo "$out" | grep -m1 -E '^ +#[0-9]+ .* in .*(/Sources/|/Fuzz/|libhdf5)' | sed -E 's/.* in ([^ ]+) (\/[^ ]*|\(([^)]*)\)).*/\1 \2/' | cut -c1-150)
  echo "$(basename "$a") [status $rc] ${what:-does not reproduce alone} ${where:+@ $where}"
done
