#!/usr/bin/env python3
"""Checks a vmae run's TensorBoard log with TensorBoard's own reader.

    python3 Tools/tensorboard/check_events.py RUN_DIR [--finetune]

Reads RUN_DIR/tb/ with tensorboard.backend.event_processing.event_accumulator.EventAccumulator
(which also verifies every record's CRCs and applies TensorBoard's restart rule) and compares
it with what the run says it did: the steps of RUN_DIR/metrics.jsonl and the recon-STEP.png
pictures. Fails (status 1, one line per problem) unless
  - every training tag is there at every logged step, once, with metrics.jsonl's value:
    train/loss, train/lr, train/min_lr, train/weight_decay, train/grad_norm, perf/step_s,
    perf/data_wait_s, perf/clips_per_s (train/loss_scale only if the records have a loss_scale);
  - pretraining: the `recon` image at each checkpoint step (every_steps and the last step; the
    recon-STEP.png files left on disk, which follow keep_last, must be the newest of them);
  - with --finetune: val/loss, val/top1, val/top5 and the `val/confusion` image at each
    evaluation's step;
  - the resolved config is there as text (`config`, the text plugin).
The `tensorboard` package comes from PyPI into a venv this script makes itself
($VMAE_TB_VENV, default /tmp/vmae-tb-venv) when the running Python lacks it.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys

VENV = os.environ.get("VMAE_TB_VENV", "/tmp/vmae-tb-venv")
TRAIN_TAGS = {  # tag -> metrics.jsonl key
    "train/loss": "loss", "train/lr": "lr", "train/min_lr": "min_lr", "train/weight_decay": "weight_decay",
    "train/grad_norm": "grad_norm", "perf/step_s": "step_s", "perf/data_wait_s": "data_wait_s",
    "perf/clips_per_s": "clips_per_s",
}
VAL_TAGS = {"val/loss": "val_loss", "val/top1": "val_top1", "val/top5": "val_top5"}


def ensure_tensorboard():
    try:
        import tensorboard  # noqa: F401
        return
    except ImportError:
        pass
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        sys.exit("check_events: tensorboard is not importable in %s" % VENV)
    if not os.path.exists(py):
        print("check_events: making %s (pip install tensorboard)" % VENV, file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    if subprocess.call([py, "-c", "import tensorboard"], stderr=subprocess.DEVNULL) != 0:
        subprocess.check_call([py, "-m", "pip", "install", "-q", "tensorboard"])
    os.execv(py, [py] + sys.argv)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--finetune", action="store_true", help="a fine-tuning run: also the val/ tags")
    args = ap.parse_args()
    ensure_tensorboard()
    from tensorboard.backend.event_processing import event_accumulator as ea_mod

    problems = []
    tb = os.path.join(args.run_dir, "tb")
    files = sorted(f for f in glob.glob(os.path.join(tb, "*")) if "tfevents" in os.path.basename(f))
    if not files:
        print("check_events: no event files in %s" % tb, file=sys.stderr)
        return 1
    acc = ea_mod.EventAccumulator(tb, size_guidance={ea_mod.SCALARS: 0, ea_mod.IMAGES: 0, ea_mod.TENSORS: 0})
    acc.Reload()
    tags = acc.Tags()

    records = []
    with open(os.path.join(args.run_dir, "metrics.jsonl")) as f:
        for line in f:
            if line.strip():
                records.append(json.loads(line))
    train = [r for r in records if "loss" in r]
    evals = [r for r in records if "val_top1" in r and not r.get("eval_only")]
    if not train:
        problems.append("metrics.jsonl has no training records")

    def series(kind, tag):
        if tag not in tags.get(kind, []):
            return None
        return {"scalars": acc.Scalars, "images": acc.Images, "tensors": acc.Tensors}[kind](tag)

    def check_scalars(tagmap, recs):
        for tag, key in tagmap.items():
            want = [(r["step"], r[key]) for r in recs if r.get(key) is not None]
            got = series("scalars", tag)
            if got is None:
                problems.append("scalar %s is missing (wanted at steps %s)" % (tag, short([s for s, _ in want])))
                continue
            steps = [e.step for e in got]
            if len(set(steps)) != len(steps):
                problems.append("scalar %s has duplicated steps: %s" % (tag, short(sorted({s for s in steps if steps.count(s) > 1}))))
            if steps != [s for s, _ in want]:
                problems.append("scalar %s at steps %s, metrics.jsonl at %s" % (tag, short(steps), short([s for s, _ in want])))
                continue
            for e, (s, v) in zip(got, want):
                if abs(e.value - v) > 1e-6 * max(1.0, abs(v)):
                    problems.append("scalar %s at step %d is %r, metrics.jsonl says %r" % (tag, s, e.value, v))
                    break

    tagmap = dict(TRAIN_TAGS)
    if any("loss_scale" in r for r in train):
        tagmap["train/loss_scale"] = "loss_scale"
    elif "train/loss_scale" in tags.get("scalars", []):
        problems.append("train/loss_scale is logged but the run has no loss scale")
    check_scalars(tagmap, train)

    def check_images(tag, steps):
        got = series("images", tag)
        if got is None:
            problems.append("image %s is missing (wanted at steps %s)" % (tag, short(steps)))
            return
        have = [e.step for e in got]
        if have != steps:
            problems.append("image %s at steps %s, wanted %s" % (tag, short(have), short(steps)))
        for e in got:
            if not e.encoded_image_string.startswith(b"\x89PNG") or e.width <= 0 or e.height <= 0:
                problems.append("image %s at step %d is not a PNG of its stated size" % (tag, e.step))
                break

    if args.finetune:
        if not evals:
            problems.append("metrics.jsonl has no evaluation records (is data.val_list set?)")
        check_scalars(VAL_TAGS, evals)
        check_images("val/confusion", [r["step"] for r in evals])
    else:
        # one recon image per checkpoint written: every checkpoint.every_steps steps and at the
        # end (the run's own config.json); the recon-STEP.png files on disk follow keep_last, so
        # they must be among those steps (the newest ones), not all of them
        recon_steps = sorted(int(m.group(1)) for p in glob.glob(os.path.join(args.run_dir, "recon-*.png"))
                             for m in [re.search(r"recon-(\d+)\.png$", p)] if m)
        if not recon_steps:
            problems.append("no recon-STEP.png in %s to compare the recon images with" % args.run_dir)
        with open(os.path.join(args.run_dir, "config.json")) as f:
            every = json.load(f)["checkpoint"]["every_steps"]
        last = max(r["step"] for r in train) if train else 0
        ckpt_steps = sorted(set(range(every, last + 1, every)) | {last})
        if not set(recon_steps) <= set(ckpt_steps) or recon_steps != ckpt_steps[-len(recon_steps):]:
            problems.append("recon-STEP.png at steps %s: not the newest of the checkpoint steps %s"
                            % (short(recon_steps), short(ckpt_steps)))
        check_images("recon", ckpt_steps)

    config = series("tensors", "config")
    if not config:
        problems.append("text 'config' (the resolved config) is missing")
    else:
        meta = acc.SummaryMetadata("config")
        if meta.plugin_data.plugin_name != "text":
            problems.append("'config' is not for the text plugin (plugin %r)" % meta.plugin_data.plugin_name)
        text = config[0].tensor_proto.string_val[0].decode()
        if '"output_dir"' not in text:
            problems.append("'config' does not hold the resolved config: %r…" % text[:60])

    for p in problems:
        print("check_events: %s: %s" % (args.run_dir, p), file=sys.stderr)
    if problems:
        return 1
    n = sum(len(acc.Scalars(t)) for t in tags["scalars"])
    print("check_events: %s: ok — %d event files, %d scalar tags (%d points), images %s, text %s"
          % (args.run_dir, len(files), len(tags["scalars"]), n, sorted(tags["images"]), sorted(tags["tensors"])))
    return 0


def short(xs):
    xs = list(xs)
    return str(xs) if len(xs) <= 12 else "[%s, …, %s] (%d)" % (", ".join(map(str, xs[:5])), ", ".join(map(str, xs[-3:])), len(xs))


if __name__ == "__main__":
    sys.exit(main())
