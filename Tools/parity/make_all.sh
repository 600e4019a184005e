#!/usr/bin/env bash
# Regenerates every parity fixture under Tests/Fixtures/ and checks each against the
# independent numpy reference (../shared/peer/np_reference.py), gradients included.
# usage: Tools/parity/make_all.sh [PYTHON]   (default: /tmp/vmae-peer-venv/bin/python,
#        made by ../shared/peer/setup.sh; needs the versions in requirements.txt)
# Deterministic: the same versions give the same numbers (1 torch thread, fixed seeds).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${1:-/tmp/vmae-peer-venv/bin/python}
gen="$py Tools/parity/make_fixture.py"
out=Tests/Fixtures
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

# VideoMAE V2 dual masking: tube 75% for the encoder, running-cell decoder mask 0.5 (the decoder
# reconstructs 2 of each 2x2 cell, 16 of N=32 tokens, the cell moving one step per temporal group).
$gen --kind pretrain --out $out/pretrain_dual.h5 --seed 8 \
  --img-size 32 --num-frames 4 --patch-size 8 --tubelet-size 2 \
  --embed-dim 32 --depth 2 --heads 2 --decoder-embed-dim 24 --decoder-depth 2 --decoder-heads 2 \
  --mask tube --mask-ratio 0.75 --decoder-mask-ratio 0.5 --batch 2 --layer-norm-eps 1e-6 --normalize-target \
  --lr 1e-3 --beta1 0.9 --beta2 0.95 --adam-eps 1e-8 --weight-decay 0.05

# Tube mask 75% (12 of 16 positions in each of 2 temporal groups), normalized-pixel target.
$gen --kind pretrain --out $out/pretrain_tube.h5 --seed 1 \
  --img-size 32 --num-frames 4 --patch-size 8 --tubelet-size 2 \
  --embed-dim 32 --depth 2 --heads 2 --decoder-embed-dim 24 --decoder-depth 2 --decoder-heads 2 \
  --mask tube --mask-ratio 0.75 --batch 2 --layer-norm-eps 1e-6 --normalize-target \
  --lr 1e-3 --beta1 0.9 --beta2 0.95 --adam-eps 1e-8 --weight-decay 0.05

# Random mask 70% of N=16 (int(11.2) = 11, different positions per sample), patch 16.
$gen --kind pretrain --out $out/pretrain_random.h5 --seed 2 \
  --img-size 32 --num-frames 8 --patch-size 16 --tubelet-size 2 \
  --embed-dim 24 --depth 2 --heads 2 --decoder-embed-dim 16 --decoder-depth 1 --decoder-heads 2 \
  --mask random --mask-ratio 0.7 --batch 2 --layer-norm-eps 1e-6 --normalize-target \
  --lr 1e-3 --beta1 0.9 --beta2 0.95 --adam-eps 1e-8 --weight-decay 0.05

# Raw-pixel target (normalize_target false), layer_norm_eps 1e-5, tube 90% (int(14.4) = 14 of 16),
# head widths 10 and 8, B=3, other AdamW constants.
$gen --kind pretrain --out $out/pretrain_nonorm.h5 --seed 3 \
  --img-size 32 --num-frames 4 --patch-size 8 --tubelet-size 2 \
  --embed-dim 40 --depth 2 --heads 4 --decoder-embed-dim 24 --decoder-depth 2 --decoder-heads 3 \
  --mask tube --mask-ratio 0.9 --batch 3 --layer-norm-eps 1e-5 --no-normalize-target \
  --lr 2e-3 --beta1 0.8 --beta2 0.999 --adam-eps 1e-6 --weight-decay 0.1

# Tubelet 4, patch 8, 24x24 (3x3 grid), 8 frames; head widths 12 and 10; mlp_ratio 2;
# tube 60% (int(5.4) = 5 of 9 positions per group).
$gen --kind pretrain --out $out/pretrain_t4p8.h5 --seed 4 \
  --img-size 24 --num-frames 8 --patch-size 8 --tubelet-size 4 \
  --embed-dim 36 --depth 2 --heads 3 --decoder-embed-dim 20 --decoder-depth 2 --decoder-heads 2 \
  --mlp-ratio 2 --mask tube --mask-ratio 0.6 --batch 2 --layer-norm-eps 1e-6 --normalize-target \
  --lr 1e-3 --beta1 0.9 --beta2 0.95 --adam-eps 1e-8 --weight-decay 0.05

# Classification: mean pooling + fc_norm + head, K=5, B=3, label smoothing 0.1.
$gen --kind classify --out $out/classify_smooth.h5 --seed 5 \
  --img-size 32 --num-frames 4 --patch-size 8 --tubelet-size 2 \
  --embed-dim 48 --depth 2 --heads 3 --decoder-embed-dim 24 --decoder-depth 1 --decoder-heads 2 \
  --num-classes 5 --batch 3 --label-smoothing 0.1 --layer-norm-eps 1e-6 \
  --lr 5e-4 --beta1 0.9 --beta2 0.999 --adam-eps 1e-8 --weight-decay 0.05

$py Tools/parity/verify.py --fd $out/pretrain_tube.h5 $out/pretrain_random.h5 $out/pretrain_nonorm.h5 \
  $out/pretrain_t4p8.h5 $out/classify_smooth.h5
