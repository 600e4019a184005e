#!/usr/bin/env bash
# The README's main command: install what is missing, build, make the bundled synthetic
# sets (once: scripts/synth-data.sh) and pretrain on the unlabeled one with
# configs/pretrain.json (resumes when run again). Then `vmae-train --config configs/finetune.json`
# fine-tunes on the labeled one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release
bash scripts/synth-data.sh 0 data/synthetic
.build/release/vmae-train --config configs/pretrain.json "$@"
