#!/usr/bin/env bash
# Checks that dependencies point down only. The layer table below is the one source of truth;
# Package.swift's opening comment and docs/ARCHITECTURE.md repeat it and must agree with it.
# Fails (status 1, one line per problem naming the file) when
#   • a file in Sources/T imports a target of T's layer or a higher one,
#   • a file in Sources/T imports a target that Package.swift does not list as T's dependency,
#   • Package.swift lists, for a source target T, a dependency of T's layer or a higher one,
#     or one that no file of T imports,
#   • a folder in Sources/ is not in the table, or a table in the manifest or the doc differs,
#   • docs/ARCHITECTURE.md names a file that does not exist.
#   • a test file in Tests/XTests imports a target above X's layer, or one its test target does
#     not list.
# Modules outside the table (Foundation, Dispatch, Glibc, XCTest) are not checked.
set -euo pipefail
cd "$(dirname "$0")/.."

# layer  targets (a target may depend on targets of lower layers only)
TABLE='
9  vmae vmae-train
8  Benchmarks Inference
7  Training Interop
6  RunConfig
5  Pictures
4  VideoMAE Optim
3  NN Checkpoint DataPipeline
2  Autodiff HDF5 VideoIO Distributed TensorBoard
1  TensorCore ExitStatus ChildProcess
0  CBLAS CDNNL CKernels CHDF5 CFFmpeg CPNG CMPI ArgumentParser SwiftProtobuf
'

declare -A layer=()
while read -r n names; do
  [ -z "$n" ] && continue
  for t in $names; do layer[$t]=$n; done
done <<< "$TABLE"

problems=0
fail() { echo "check-layers: $*" >&2; problems=$((problems + 1)); }

# The table as "layer target" lines, sorted, for comparing with the copies.
canonical() { for t in "${!layer[@]}"; do echo "${layer[$t]} $t"; done | sort; }

# A copy of the table: rows "N  targets  [description]" (fields split by two or more spaces),
# taken from the lines between the markers `layers:begin` and `layers:end` of a file.
copy_of_table() {
  sed -n '/layers:begin/,/layers:end/p' "$1" | sed -E 's#^[[:space:]]*//##' |
    awk -F '  +' '{ sub(/^ +/, ""); if ($1 ~ /^[0-9]+$/) { n = split($2, ts, " "); for (i = 1; i <= n; i++) print $1, ts[i] } }' | sort
}

for copy in Package.swift docs/ARCHITECTURE.md; do
  if ! grep -q 'layers:begin' "$copy"; then
    fail "$copy: no layer table (between layers:begin and layers:end)"
  elif ! diff <(canonical) <(copy_of_table "$copy") > /dev/null; then
    fail "$copy: its layer table differs from scripts/check-layers.sh's (< script, > $copy):"
    diff <(canonical) <(copy_of_table "$copy") | grep '^[<>]' | sed 's/^/    /' >&2 || true
  fi
done

# Every file or folder docs/ARCHITECTURE.md points to exists (its "where do I find…" table).
for ref in $(grep -oE '`(Sources|Tests|scripts)/[^` ]+`' docs/ARCHITECTURE.md | tr -d '`' | sort -u); do
  [ -e "$ref" ] || fail "docs/ARCHITECTURE.md: $ref does not exist"
done

# Package.swift's dependency lists of every target: "target dep dep …".
deps_lines=$(tr '\n' ' ' < Package.swift |
  grep -oE '\.(target|executableTarget|testTarget)\(name: "[^"]+", dependencies: \[[^]]*\]' |
  sed -E 's/package: "[^"]*"//g' |
  sed -E 's/^[^"]*"([^"]+)", dependencies: \[/\1 /; s/\]$//; s/\.product\(name: //g; s/[",)]/ /g' |
  tr -s ' ')
declare -A deps=()
while read -r t rest; do
  [ -z "$t" ] && continue
  deps[$t]=" $rest "
done <<< "$deps_lines"

for t in "${!deps[@]}"; do
  [ -d "Sources/$t" ] || continue   # test support targets live under Tests/
  if [ -z "${layer[$t]:-}" ]; then fail "Package.swift: target $t is not in the layer table"; continue; fi
  for d in ${deps[$t]}; do
    if [ -z "${layer[$d]:-}" ]; then
      fail "Package.swift: $t depends on $d, which is not in the layer table"
    elif [ "${layer[$d]}" -ge "${layer[$t]}" ]; then
      fail "Package.swift: $t (layer ${layer[$t]}) depends on $d (layer ${layer[$d]}): dependencies point down only"
    fi
  done
done

for dir in Sources/*/; do
  t=$(basename "$dir")
  if [ -z "${layer[$t]:-}" ]; then fail "Sources/$t: not in the layer table"; continue; fi
  [ -n "${deps[$t]+set}" ] || [ "${layer[$t]}" = 0 ] || fail "Package.swift: no target $t for Sources/$t"
  while IFS= read -r -d '' f; do
    while IFS=: read -r line text; do
      m=$(sed -E 's/^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]+((struct|class|enum|protocol|func|var|let|typealias)[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*).*/\4/' <<< "$text")
      [ -n "${layer[$m]:-}" ] || continue
      if [ "${layer[$m]}" -ge "${layer[$t]}" ]; then
        fail "$f:$line: $t (layer ${layer[$t]}) imports $m (layer ${layer[$m]}): dependencies point down only"
      elif [ "${layer[$t]}" != 0 ] && [[ "${deps[$t]:-}" != *" $m "* ]]; then
        fail "$f:$line: imports $m, which Package.swift does not list as a dependency of $t"
      fi
    done < <(grep -nE '^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]' "$f" || true)
  done < <(find "$dir" -name '*.swift' -print0)
done

# Tests follow the layout: Tests/XTests tests target X and may use X, targets of X's layer or
# lower (e.g. a trained checkpoint from Training for Inference's tests), and TestSupport.
for dir in Tests/*Tests/; do
  tt=$(basename "$dir"); t=${tt%Tests}
  if [ -z "${layer[$t]:-}" ]; then fail "Tests/$tt: no source target $t in the layer table"; continue; fi
  [ -n "${deps[$tt]+set}" ] || { fail "Package.swift: no test target $tt for Tests/$tt"; continue; }
  while IFS= read -r -d '' f; do
    while IFS=: read -r line text; do
      m=$(sed -E 's/^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]+((struct|class|enum|protocol|func|var|let|typealias)[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*).*/\4/' <<< "$text")
      [ -n "${layer[$m]:-}" ] || [ "$m" = TestSupport ] || continue
      if [ -n "${layer[$m]:-}" ] && [ "${layer[$m]}" -gt "${layer[$t]}" ]; then
        fail "$f:$line: $tt (tests of layer ${layer[$t]}) imports $m (layer ${layer[$m]}): tests use their target and lower layers only"
      elif [[ "${deps[$tt]}" != *" $m "* ]]; then
        fail "$f:$line: imports $m, which Package.swift does not list as a dependency of $tt"
      fi
    done < <(grep -nE '^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]' "$f" || true)
  done < <(find "$dir" -name '*.swift' -print0)
done

# A dependency no file of the target imports: the list says more than the code does.
for t in "${!deps[@]}"; do
  [ -d "Sources/$t" ] || continue
  [ -n "$(find "Sources/$t" -name '*.swift' -print -quit)" ] || continue
  for d in ${deps[$t]}; do
    grep -qE "^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]+((struct|class|enum|protocol|func|var|let|typealias)[[:space:]]+)?$d([^A-Za-z0-9_]|\$)" \
      $(find "Sources/$t" -name '*.swift') ||
      fail "Package.swift: $t lists $d as a dependency, but no file in Sources/$t imports it"
  done
done

if [ "$problems" -gt 0 ]; then
  echo "check-layers: $problems problem(s); the layer order is in scripts/check-layers.sh and docs/ARCHITECTURE.md" >&2
  exit 1
fi
echo "check-layers: ${#layer[@]} targets and their tests in $(echo "$TABLE" | grep -c '[0-9]') layers; every import and dependency points down"
