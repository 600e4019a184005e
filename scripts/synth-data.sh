#!/usr/bin/env bash
# The bundled task's two sets for one data seed S (default 0), made once:
#   OUT/unlabeled: 1992 + 8 clips for pretraining (labels ignored), `vmae data synth --seed 2S+1`
#   OUT/labeled:   20 training + 40 validation clips per class (160 + 320), `--seed 2S`
# (no two data seeds share a generator seed; the seed case's sets are the same draws with
# textured actors: its own commands in the README)
# 8 classes, 32 frames of 64², two-tone actors (`--actors two-tone`). Usage: scripts/synth-data.sh [S] [OUT] (OUT: data/synthetic)
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-0}
out=${2:-data/synthetic}
bin=${VMAE_BIN:-.build/release}
if [ ! -f "$out/unlabeled/train.csv" ]; then
  "$bin/vmae" data synth --out "$out/unlabeled" --clips-per-class 250 --val-per-class 1 --size 64 --frames 32 --actors two-tone --seed $((2 * seed + 1))
fi
if [ ! -f "$out/labeled/train.csv" ]; then
  "$bin/vmae" data synth --out "$out/labeled" --clips-per-class 60 --val-per-class 40 --size 64 --frames 32 --actors two-tone --seed $((2 * seed))
fi
