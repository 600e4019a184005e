#!/usr/bin/env bash
# Soak: pretraining for MINUTES on small synthetic clips (`vmae data synth`), a checkpoint every
# few steps with keep_last 2, and a SIGTERM + `--resume auto` every RESTART_S seconds. Samples the
# trainer's resident memory (VmRSS of /proc/PID/status) and open file descriptors (/proc/PID/fd)
# every 2 s and fails when either grows:
#   • RSS: least-squares slope of RSS against time within each process life, after a WARMUP_S
#     warm-up, pooled over the lives (one intercept per life, one common slope); fails above
#     RSS_LIMIT_MB_PER_H (default 10 MB/hour). Also the median RSS of the last life against the
#     first: resuming must not cost more memory each time (fails above RESUME_LIMIT_MB, default 20).
#   • fds: the same pooled slope, failing above FD_LIMIT_PER_H (default 2 fds/hour; one leaked fd
#     per checkpoint would be thousands), and the fewest fds of the last life must not exceed the
#     fewest of the first (a descriptor kept across resumes).
# Every stop must end with status 0 within 60 s and leave the newest checkpoint readable
# (`vmae inspect`), no temporary file, at most keep_last step checkpoints; every resume must
# continue from the step the stop reported.
#   scripts/soak.sh MINUTES [--threads N] [--keep DIR]
# Runs under `nice -n 15` (the machine is shared). Prints one summary line per life and the totals.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?usage: scripts/soak.sh MINUTES [--threads N] [--keep DIR]}
shift
threads=1 keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
restart_s=${RESTART_S:-300}
warmup_s=${WARMUP_S:-60}
rss_limit=${RSS_LIMIT_MB_PER_H:-10}
resume_limit=${RESUME_LIMIT_MB:-20}
fd_limit=${FD_LIMIT_PER_H:-2}

for b in vmae vmae-train; do
  [ -x .build/release/$b ] || { echo "soak.sh: .build/release/$b is not built (swift build -c release)" >&2; exit 2; }
done
dir=${keep:-$(mktemp -d /tmp/vmae-soak.XXXXXX)}
mkdir -p "$dir/bin"
[ -n "$keep" ] || trap 'rm -rf "$dir"' EXIT
# a copy of the binaries: a rebuild during the soak must not change what each resume runs
cp .build/release/vmae .build/release/vmae-train "$dir/bin/"
bin=$dir/bin
out=$dir/out samples=$dir/samples.tsv
echo "soak: $minutes min, restart every ${restart_s}s, warm-up ${warmup_s}s, --threads $threads, in $dir"

nice -n 15 "$bin/vmae" data synth --out "$dir/data" --classes 4 --clips-per-class 8 --size 32 --frames 16 >/dev/null
cat >"$dir/soak.json" <<EOF
{
  "task": "pretrain", "seed": 3, "output_dir": "$out",
  "model": {"preset": null, "encoder_embed_dim": 64, "encoder_depth": 2, "encoder_num_heads": 2,
            "decoder_embed_dim": 32, "decoder_depth": 1, "decoder_num_heads": 2, "patch_size": 8},
  "data": {"train_list": "$dir/data/train.csv", "val_list": "$dir/data/val.csv", "num_frames": 8,
           "sampling_rate": 2, "input_size": 32, "num_workers": 1},
  "optim": {"batch_size": 4, "max_steps": 100000000, "warmup_steps": 20, "lr": 1e-3, "min_lr": 1e-5},
  "checkpoint": {"every_steps": 50, "keep_last": 2},
  "log": {"every_steps": 10}
}
EOF

printf 'life\tt\trss_kb\tfds\n' >"$samples"
end=$(( $(date +%s) + minutes * 60 ))
life=0 fail=0 expect_step=""
while [ "$(date +%s)" -lt "$end" ]; do
  life=$((life + 1))
  log=$dir/life-$life.log
  nice -n 15 "$bin/vmae-train" --config "$dir/soak.json" --resume auto --threads "$threads" >"$log" 2>&1 &
  pid=$!
  t0=$(date +%s)
  stop_at=$(( t0 + restart_s < end ? t0 + restart_s : end ))
  while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$stop_at" ]; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    [ -n "$rss" ] && printf '%d\t%d\t%s\t%d\n' "$life" $(( $(date +%s) - t0 )) "$rss" "$fds" >>"$samples"
    sleep 2
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" || true
    echo "soak: FAIL: life $life ended on its own:" >&2; tail -3 "$log" >&2; fail=1; break
  fi
  kill -TERM "$pid"
  waited=0
  while kill -0 "$pid" 2>/dev/null && [ $waited -lt 60 ]; do sleep 1; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"; echo "soak: FAIL: life $life did not stop within 60 s of SIGTERM" >&2; fail=1; break
  fi
  status=0; wait "$pid" || status=$?
  [ $status -eq 0 ] || { echo "soak: FAIL: life $life exited $status after SIGTERM:" >&2; tail -3 "$log" >&2; fail=1; break; }
  resumed=$(grep -o 'resumed from .* at step [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  stopped=$(grep -o 'stopped at step [0-9]*' "$log" | grep -o '[0-9]*$' || true)
  if [ -n "$expect_step" ] && [ "$resumed" != "$expect_step" ]; then
    echo "soak: FAIL: life $life resumed at step $resumed, the previous stop was at $expect_step" >&2; fail=1; break
  fi
  expect_step=$stopped
  newest=$(ls "$out"/checkpoint-*.h5 | sort | tail -1)
  nice -n 15 "$bin/vmae" inspect "$newest" >/dev/null 2>"$dir/inspect.err" ||
    { echo "soak: FAIL: newest checkpoint $newest does not read: $(cat "$dir/inspect.err")" >&2; fail=1; break; }
  ncks=$(ls "$out"/checkpoint-*.h5 | wc -l)
  ntmp=$(ls -A "$out" | grep -c '\.h5\.tmp-' || true)
  [ "$ncks" -le 2 ] && [ "$ntmp" -eq 0 ] ||
    { echo "soak: FAIL: $ncks checkpoints (keep_last 2), $ntmp temporaries in $out" >&2; fail=1; break; }
  awk -v l=$life -v w=$warmup_s -v s="$resumed" -v e="$stopped" -F'\t' 'function median(x, n,   i, j, t) { for (i = 2; i <= n; i++) { t = x[i]; for (j = i - 1; j >= 1 && x[j] > t; j--) x[j + 1] = x[j]; x[j + 1] = t }
    return n ? x[int((n + 1) / 2)] : 0 }
  $1 == l && $2 >= w { n++; r[n] = $3; if ($4 > f) f = $4 }
    END { printf "soak: life %d: steps %d..%d, median RSS %.1f MB, max fds %d\n", l, s, e, median(r, n) / 1024, f }' "$samples"
done
[ $fail -eq 0 ] || { echo "soak: FAILED (samples and logs in $dir)" >&2; [ -n "$keep" ] || trap - EXIT; exit 1; }

# pooled within-life slopes (one intercept per life, one common slope), first vs last life
awk -v w=$warmup_s -v rl=$rss_limit -v ml=$resume_limit -v fl=$fd_limit -v lives=$life -F'\t' '
  function median(x, n,   i, j, t) { for (i = 2; i <= n; i++) { t = x[i]; for (j = i - 1; j >= 1 && x[j] > t; j--) x[j + 1] = x[j]; x[j + 1] = t }
    return n ? x[int((n + 1) / 2)] : 0 }
  NR > 1 && $2 >= w {
    l = $1; k = ++n[l]; r = $3 / 1024
    st[l] += $2; stt[l] += $2 * $2; sr[l] += r; str[l] += $2 * r; sf[l] += $4; stf[l] += $2 * $4
    v[l, k] = r; if (!(l in fmin) || $4 < fmin[l]) fmin[l] = $4; if ($4 > fmax) fmax = $4
  }
  END {
    for (l = 1; l <= lives; l++) { if (n[l] < 3) continue; used++; last = l; if (!first) first = l
      mt = st[l] / n[l]; sxx += stt[l] - n[l] * mt * mt
      sxy += str[l] - mt * sr[l]; sxf += stf[l] - mt * sf[l] }
    if (!used) { print "soak: no life lasted past the warm-up"; exit 1 }
    rs = sxy / sxx * 3600; fs = sxf / sxx * 3600
    for (k = 1; k <= n[first]; k++) a[k] = v[first, k]; mf = median(a, n[first])
    for (k = 1; k <= n[last]; k++) b[k] = v[last, k]; mlast = median(b, n[last])
    printf "soak: %d lives; within a life: RSS slope %+.2f MB/hour (limit %g), fd slope %+.2f fds/hour (limit %g);\n", used, rs, rl, fs, fl
    printf "soak: across resumes: median RSS first life %.1f MB, last %.1f MB (limit +%g MB); fewest fds first life %d, last %d (must not rise); most fds %d\n",
      mf, mlast, ml, fmin[first], fmin[last], fmax
    exit (rs > rl) || (fs > fl) || (mlast - mf > ml) || (fmin[last] > fmin[first])
  }' "$samples" || { echo "soak: FAILED (samples in $dir)" >&2; [ -n "$keep" ] || trap - EXIT; exit 1; }
steps=$(grep -ho 'stopped at step [0-9]*' $(ls "$dir"/life-*.log | sort -V) | tail -1 | grep -o '[0-9]*$')
echo "soak: passed: $minutes min, $life SIGTERM/resume cycles, $steps steps, output folder $(du -sh "$out" | cut -f1)"
