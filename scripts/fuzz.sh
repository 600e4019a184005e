#!/usr/bin/env bash
# Fuzzes vmae's readers with libFuzzer + AddressSanitizer (LeakSanitizer on).
#   scripts/fuzz.sh NAME SECONDS    one harness: config, safetensors, checkpoint, listfile, fixture
#   scripts/fuzz.sh all SECONDS     each in turn, SECONDS each
# Exits non-zero on any crash, leak, timeout (an input taking > 10 s: a hang) or out-of-memory
# (> 2 GB RSS or a single allocation above it); the input that did it is kept under
# .build-fuzz/artifacts/NAME/. The seeds are Fuzz/corpus/NAME/ (committed); what the fuzzer
# finds grows .build-fuzz/corpus/NAME/ (not committed). The harnesses are declared in
# Package.swift only when VMAE_FUZZ=1, so the release build and the suite never see them.
# Runs under `nice -n 15`: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
all=(config safetensors checkpoint listfile fixture)
name=${1:?usage: scripts/fuzz.sh NAME|all SECONDS}
seconds=${2:?usage: scripts/fuzz.sh NAME|all SECONDS}
if [ "$name" = all ]; then
  status=0
  for n in "${all[@]}"; do "$0" "$n" "$seconds" || status=1; done
  exit $status
fi
[[ " ${all[*]} " == *" $name "* ]] || { echo "fuzz.sh: unknown harness '$name' (one of: ${all[*]}, all)" >&2; exit 2; }
export VMAE_FUZZ=1
# lld: SwiftPM aliases main to the harness's own entry point, which gold cannot link beside
# libFuzzer's runtime.
nice -n 15 swift build -c release --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld \
  --product "fuzz-$name" 2>&1 | grep -v '^\[' >&2
work=.build-fuzz/corpus/$name
artifacts=.build-fuzz/artifacts/$name/$(date -u +%Y%m%dT%H%M%S)
mkdir -p "$work" "$artifacts"
log=.build-fuzz/fuzz-$name.log
# Allocations the machine could never serve (HDF5 asking for terabytes on a damaged header)
# fail as they do outside the sanitizer (malloc returns NULL) instead of aborting; real use is
# bounded by -rss_limit_mb. Fork mode keeps fuzzing past a failure so one run finds them all;
# each failing input is written to $artifacts and makes the run fail.
export LSAN_OPTIONS=suppressions=$PWD/Fuzz/lsan.supp
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
set +e
nice -n 15 ".build-fuzz/release/fuzz-$name" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2000000000 \
  -artifact_prefix="$artifacts/" "$work" "Fuzz/corpus/$name" >"$log" 2>&1
status=$?
set -e
rm -rf /tmp/vmae-fuzz-"$name"-*
# fork mode's progress lines: "#EXECS: cov: C ft: F corp: N exec/s S oom/timeout/crash: a/b/c time: Ts …"
last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
execs=$(echo "$last" | sed -E 's/^#([0-9]+):.*/\1/')
speed=$(echo "$last" | sed -E 's/.*exec\/s: ([0-9]+).*/\1/')
cov=$(echo "$last" | sed -E 's/.* cov: ([0-9]+).*/\1/')
found=$(ls "$artifacts" | wc -l)
if [ "$found" -gt 0 ] || [ $status -ne 0 ]; then
  for a in "$artifacts"/*; do [ -e "$a" ] && echo "  $a" >&2; done
  echo "fuzz $name: FAILED: $found failing inputs (crash/leak/timeout/oom) in ${execs:-?} runs of ${seconds}s; log $log" >&2
  exit 1
fi
echo "fuzz $name: ${execs:-?} runs in ${seconds}s (${speed:-?}/s), coverage ${cov:-?} edges, corpus $(ls "$work" | wc -l) inputs; no crash, leak, timeout or OOM"
