#!/usr/bin/env bash
# The masking study (the seed's exercise 3): at 90%, tube masking against random masking over
# all tokens (the original's "random": each temporal group hides other positions, so a hidden
# patch can often be copied from the frame pair before or after it), seeds 0 and 1; and a ratio
# sweep 0.75 / 0.90 / 0.95 under tube masking (seed 0). Each run pretrains with
# configs/study-masking-<mask>.json (the quick-start model and data, 3000 steps) on the quick
# start's unlabeled set, then on its labeled set: a linear probe (configs/finetune-linear-probe.json)
# and a full fine-tune (configs/finetune.json), both scored once on the 320 validation clips after
# their last step, and a reconstruction picture of one validation clip under the run's own mask.
# Prints the table: final reconstruction loss (mean of the last 10 logged steps) and loss_vs_mean,
# linear-probe top-1, fine-tuned top-1, picture. A finished step is not redone.
#   bash scripts/study-masking.sh            (RUNS="tube-0.90:0 random-0.90:0 …" to choose)
#   THREADS=1 RUNS="…" bash scripts/study-masking.sh & THREADS=1 RUNS="…" bash scripts/study-masking.sh
#   runs two halves side by side, one thread each (the quick-start model barely uses a second
#   core); both append to the same results table.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VMAE_BIN:-.build/release}
[ -x "$bin/vmae-train" ] || swift build -c release
export VMAE_BIN=$bin
threads=(); [ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")
bash scripts/synth-data.sh 0 data/synthetic
RUNS=${RUNS:-"tube-0.90:0 random-0.90:0 tube-0.90:1 random-0.90:1 tube-0.75:0 tube-0.95:0"}
out=runs/study-masking
mkdir -p "$out"
results=$out/results.tsv
touch "$results"
clip=data/synthetic/labeled/$(sed -n 1p data/synthetic/labeled/val.csv | cut -d' ' -f1)

newest() { ls -1 "$1"/checkpoint-0*.h5 2>/dev/null | tail -1; }
score() {  # config, output dir, init_from, seed → top-1 of the last step's model
  "$bin/vmae-train" --config "$1" --set seed="$4" --set output_dir="$2" "${threads[@]}" --set data.val_list=null \
    --set checkpoint.init_from="$3" > "$2.log" 2>&1
  "$bin/vmae-train" --config "$1" --set output_dir="$2" "${threads[@]}" --eval-only --resume "$(newest "$2")" 2>&1 |
    grep '^top-1' | awk '{print $2}' | tr -d '%'
}

for run in $RUNS; do
  mask=${run%%:*}; seed=${run##*:}
  grep -q "^$mask	$seed	" "$results" && continue
  pre=$out/$mask-seed$seed
  mkdir -p "$out"
  "$bin/vmae-train" --config "configs/study-masking-$mask.json" --set seed="$seed" --set output_dir="$pre" "${threads[@]}" > "$pre.log" 2>&1
  read -r loss ratio < <(python3 -c "
import json, sys
L = [json.loads(l) for l in open('$pre/metrics.jsonl') if l.strip()][-10:]
print(sum(r['loss'] for r in L) / len(L), sum(r['loss_vs_mean'] for r in L) / len(L))")
  mtype=${mask%-*}; mratio=${mask#*-}
  "$bin/vmae" reconstruct --checkpoint "$(newest "$pre")" "$clip" --out "$pre-recon.png" \
    --mask "$mtype" --ratio "$mratio" --seed 0 > /dev/null
  probe=$(score configs/finetune-linear-probe.json "$pre-probe" "$pre" "$seed")
  ft=$(score configs/finetune.json "$pre-finetune" "$pre" "$seed")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mask" "$seed" "$loss" "$ratio" "$probe" "$ft" "$pre-recon.png" >> "$results"
  echo "$mask seed $seed: loss $loss ($ratio of mean), linear probe $probe%, fine-tuned $ft%"
done

echo "| mask | seed | final loss | loss_vs_mean | linear-probe top-1 | fine-tuned top-1 | picture |"
echo "|---|---|---|---|---|---|---|"
awk -F'\t' '{printf "| %s | %s | %.4f | %.3f | %.1f%% | %.1f%% | %s |\n", $1, $2, $3, $4, $5, $6, $7}' "$results"
