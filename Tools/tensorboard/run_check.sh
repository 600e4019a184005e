#!/usr/bin/env bash
# CI's TensorBoard check: two short real runs with the built vmae-train, read back by
# TensorBoard's own EventAccumulator (check_events.py, in a venv it makes itself):
#   - pretraining of a tiny model, stopped at step 6 and resumed to step 12 (two event files;
#     no step twice), a checkpoint and a recon picture every 3 steps;
#   - fine-tuning for 2 epochs with an evaluation after each.
# Needs `swift build -c release` done (scripts/test.sh does it). About half a minute plus the
# venv's first pip install.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=.build/release/vmae-train
[ -x "$bin" ] || { echo "run_check: $bin not built (swift build -c release)" >&2; exit 1; }
work=${VMAE_TB_CHECK_DIR:-$(mktemp -d)}
[ -n "${VMAE_TB_CHECK_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
cat > "$work/pretrain.json" <<JSON
{"task": "pretrain", "seed": 7, "output_dir": "$work/pretrain",
 "model": {"preset": null, "encoder_embed_dim": 32, "encoder_depth": 2, "encoder_num_heads": 2,
           "decoder_embed_dim": 16, "decoder_depth": 1, "decoder_num_heads": 2, "patch_size": 8},
 "data": {"train_list": "random:16", "num_frames": 4, "input_size": 32, "num_workers": 0},
 "optim": {"batch_size": 2, "max_steps": 12, "warmup_steps": 2},
 "checkpoint": {"every_steps": 3, "keep_last": 2}, "log": {"every_steps": 2}}
JSON
cat > "$work/finetune.json" <<JSON
{"task": "finetune", "seed": 3, "output_dir": "$work/finetune",
 "model": {"preset": null, "encoder_embed_dim": 32, "encoder_depth": 2, "encoder_num_heads": 2,
           "decoder_embed_dim": 16, "decoder_depth": 1, "decoder_num_heads": 1, "patch_size": 8, "num_classes": 3},
 "data": {"train_list": "random:8", "val_list": "random:6", "num_frames": 4, "sampling_rate": 1, "input_size": 32,
          "num_workers": 0},
 "optim": {"batch_size": 4, "epochs": 2, "warmup_steps": 0},
 "finetune": {"test_num_segment": 1, "test_num_crop": 1},
 "checkpoint": {"every_steps": 100}, "log": {"every_steps": 1}}
JSON
"$bin" --config "$work/pretrain.json" --quiet --stop-at 6
"$bin" --config "$work/pretrain.json" --quiet --resume auto
"$bin" --config "$work/finetune.json" --quiet
n=$(ls "$work/pretrain/tb" | grep -c tfevents)
[ "$n" = 2 ] || { echo "run_check: the resumed pretraining left $n event files, not 2" >&2; exit 1; }
python3 Tools/tensorboard/check_events.py "$work/pretrain"
python3 Tools/tensorboard/check_events.py "$work/finetune" --finetune
