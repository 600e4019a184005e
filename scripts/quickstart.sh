#!/usr/bin/env bash
# The README's main command: install what is missing, build, make the bundled synthetic
# dataset (once), and pretrain on it with configs/pretrain.json (resumes when run again).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
bin=.build/release
if [ ! -f data/synthetic/train.csv ]; then
  "$bin/vmae" data synth --out data/synthetic --classes 8 --clips-per-class 24 --size 112 --frames 32 --seed 0
fi
"$bin/vmae-train" --config configs/pretrain.json "$@"
