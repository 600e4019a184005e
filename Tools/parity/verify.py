#!/usr/bin/env python3
"""Check parity fixtures against ../shared/peer/np_reference.py, an independent float64 numpy
forward written from DESIGN.md alone (it shares no code with make_fixture.py).

For each FILE: the layout (attrs, config keys, datasets, dtypes, shapes) is the design's; the
numpy loss (and logits) equal the expected ones within 1e-5 relative; and, with --fd, every
expected gradient agrees with central finite differences of the numpy loss along two
directions per parameter (the gradient itself and a random one), which checks the names,
the q/k/v fusion and the gradient values independently of PyTorch.

usage: verify.py [--fd] [--np-reference PATH] FILE.h5 ...   (exit status 1 on any failure)
"""
import argparse
import contextlib
import io
import json
import os
import runpy
import shutil
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REF = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "peer", "np_reference.py"))
CONFIG_KEYS = ["img_size", "num_frames", "patch_size", "tubelet_size", "in_chans", "encoder_embed_dim",
               "encoder_depth", "encoder_num_heads", "decoder_embed_dim", "decoder_depth", "decoder_num_heads",
               "mlp_ratio", "qkv_bias", "layer_norm_eps", "num_classes", "use_mean_pooling", "normalize_target"]


def np_forward(ref, path):
    """Runs np_reference.py on path; returns its float64 loss and logits (None for pretrain)."""
    argv = sys.argv
    sys.argv = [ref, path]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            g = runpy.run_path(ref, run_name="__main__")
    finally:
        sys.argv = argv
    g["f"].close()
    return float(g["loss"]), (g["logits"] if g["kind"] == "classify" else None)


def check_layout(f, problems):
    a = f.attrs
    if a.get("format") != "vmae-parity-fixture" or int(a.get("format_version", -1)) != 1:
        problems.append("root attrs format/format_version")
    kind = a.get("kind")
    cfg = json.loads(a["config"])
    if list(cfg) != CONFIG_KEYS:
        problems.append(f"config keys {list(cfg)}")
    B, T, C, H, W = f["inputs/pixel_values"].shape
    if f["inputs/pixel_values"].dtype != np.float32:
        problems.append("pixel_values dtype")
    if (T, C, H, W) != (cfg["num_frames"], cfg["in_chans"], cfg["img_size"], cfg["img_size"]):
        problems.append("pixel_values shape")
    N = (T // cfg["tubelet_size"]) * (H // cfg["patch_size"]) * (W // cfg["patch_size"])
    if kind == "pretrain":
        m = f["inputs/mask"]
        if m.dtype != np.uint8 or m.shape != (B, N):
            problems.append("mask dtype/shape")
        s = m[...].sum(1)
        if len(set(s.tolist())) != 1 or not 0 < s[0] < N:
            problems.append("mask counts")
    elif kind == "classify":
        lab = f["inputs/labels"]
        if lab.dtype != np.int64 or lab.shape != (B,):
            problems.append("labels dtype/shape")
        lg = f["expected/logits"]
        if lg.dtype != np.float32 or lg.shape != (B, cfg["num_classes"]) or "label_smoothing" not in lg.attrs:
            problems.append("logits")
    else:
        problems.append(f"kind {kind}")
    if f["expected/loss"].shape != () or f["expected/loss"].dtype != np.float32:
        problems.append("loss scalar")
    params, grads = set(f["params"]), set(f["expected/grads"])
    if params != grads:
        problems.append(f"params vs grads names: {sorted(params ^ grads)}")
    for k in params:
        p, g = f["params/" + k], f["expected/grads/" + k]
        if p.dtype != np.float32 or g.dtype != np.float32 or p.shape != g.shape:
            problems.append(f"param/grad {k}")
    l = f["expected/adamw/losses"]
    if l.dtype != np.float32 or l.ndim != 1 or l.shape[0] < 2:
        problems.append("adamw losses")
    if set(l.attrs) != {"lr", "beta1", "beta2", "eps", "weight_decay"}:
        problems.append(f"adamw attrs {sorted(l.attrs)}")
    if l[0] != f["expected/loss"][()]:
        problems.append("adamw losses[0] != expected loss")
    return kind, cfg


def fd_check(ref, path, tmpdir, rng):
    """Worst relative error of directional finite differences vs expected grads."""
    with h5py.File(path, "r") as f:
        P = {k: f["params/" + k][...].astype(np.float64) for k in f["params"]}
        G = {k: f["expected/grads/" + k][...].astype(np.float64) for k in f["params"]}
    gmax = max(np.abs(g).max() for g in G.values())
    tmp = os.path.join(tmpdir, "fd.h5")
    shutil.copy(path, tmp)
    worst, where = 0.0, None
    for k in sorted(P):
        for which in ("grad", "random"):
            d = G[k] if which == "grad" else rng.standard_normal(P[k].shape)
            nd = np.linalg.norm(d)
            if nd == 0:
                continue
            d = d / nd
            h = 1e-4 * max(1.0, np.abs(P[k]).max())
            vals = []
            for s in (+1, -1):
                with h5py.File(tmp, "r+") as f:
                    del f["params/" + k]
                    f.create_dataset("params/" + k, data=P[k] + s * h * d)  # float64: no rounding
                vals.append(np_forward(ref, tmp)[0])
            fd = (vals[0] - vals[1]) / (2 * h)
            an = float((G[k] * d).sum())
            # scale: the largest gradient entry times sqrt of the size (a directional derivative's natural size)
            err = abs(fd - an) / max(abs(an), 1e-3 * gmax)
            if err > worst:
                worst, where = err, f"{k} ({which}: fd {fd:.6g} vs grad {an:.6g})"
        with h5py.File(tmp, "r+") as f:
            del f["params/" + k]
            f.create_dataset("params/" + k, data=P[k].astype(np.float32))
    return worst, where


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--fd", action="store_true", help="finite-difference check of every gradient (slower)")
    ap.add_argument("--np-reference", default=DEFAULT_REF)
    a = ap.parse_args()
    failed = False
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmpdir:
        for path in a.files:
            problems = []
            with h5py.File(path, "r") as f:
                kind, cfg = check_layout(f, problems)
                exp_loss = float(f["expected/loss"][()])
                exp_logits = f["expected/logits"][...] if kind == "classify" else None
            loss, logits = np_forward(a.np_reference, path)
            rel = abs(loss - exp_loss) / abs(loss)
            if rel > 1e-5:
                problems.append(f"loss: numpy {loss:.9g} vs expected {exp_loss:.9g} (rel {rel:.2e})")
            msg = f"{path}: {kind} loss numpy {loss:.9g} expected {exp_loss:.9g} rel {rel:.1e}"
            if logits is not None:
                lrel = np.abs(logits - exp_logits).max() / np.abs(logits).max()
                msg += f", logits rel {lrel:.1e}"
                if lrel > 1e-5:
                    problems.append(f"logits rel {lrel:.2e}")
            if a.fd:
                worst, where = fd_check(a.np_reference, path, tmpdir, rng)
                msg += f", grads vs finite differences worst rel {worst:.1e} at {where}"
                if worst > 1e-3:
                    problems.append(f"grad fd {worst:.2e} at {where}")
            print(msg + ("" if not problems else "\n  FAIL: " + "; ".join(problems)))
            failed |= bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
