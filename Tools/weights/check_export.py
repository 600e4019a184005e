#!/usr/bin/env python3
"""Check folders written by `vmae export CK.h5 --out DIR` against transformers.

For each DIR: loads it with the class config.json names (VideoMAEForPreTraining or
VideoMAEForVideoClassification) through `from_pretrained(DIR, output_loading_info=True)` and
fails unless no weight is missing, unexpected or mismatched and transformers logged no
warning; checks that every tensor in model.safetensors equals the loaded parameter bit for
bit; that id2label matches the checkpoint's class names; that AutoImageProcessor reads
preprocessor_config.json; and runs a forward pass on random input.

With --compare FIXTURE.expected.safetensors (from make_hf_fixtures.py) the forward runs on
the recorded input (and mask) and the loss/logits are compared with the recorded ones: an
export of an import of a fixture must reproduce it up to the LayerNorm eps note below.
With --vmae-checkpoint CK.h5 the exported tensors are compared with the checkpoint's (h5py),
through the same name table as vmae's (Tools/parity/make_fixture.py's mapping).

LayerNorm eps: transformers builds decoder.norm and fc_norm with eps 1e-5 whatever
layer_norm_eps says; vmae uses layer_norm_eps for all. The printed "eps_effect_rel" is how far
the model's outputs move when those two norms get layer_norm_eps instead.

usage: check_export.py DIR [DIR …] [--compare F.expected.safetensors] [--vmae-checkpoint CK.h5]
"""
import argparse
import copy
import json
import logging
import os
import sys

import numpy as np
import torch
from safetensors import safe_open

torch.set_num_threads(1)

from transformers import (AutoImageProcessor, VideoMAEForPreTraining,  # noqa: E402
                          VideoMAEForVideoClassification)
from transformers.utils import logging as hf_logging  # noqa: E402


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def check(dir_, compare=None, ck=None):
    cfg = json.load(open(os.path.join(dir_, "config.json")))
    arch = cfg["architectures"][0]
    cls = {"VideoMAEForPreTraining": VideoMAEForPreTraining,
           "VideoMAEForVideoClassification": VideoMAEForVideoClassification}[arch]
    cap = Capture()
    hf_logging.get_logger().addHandler(cap)
    hf_logging.set_verbosity_warning()
    try:
        model, info = cls.from_pretrained(dir_, output_loading_info=True, attn_implementation="eager")
    finally:
        hf_logging.get_logger().removeHandler(cap)
    model.eval()
    problems = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if problems:
        fail(f"{dir_}: {problems}")
    weight_warnings = [r for r in cap.records if "weight" in r.lower() or "initialized" in r.lower()]
    if weight_warnings:
        fail(f"{dir_}: transformers warned: {weight_warnings}")

    # every stored tensor is the loaded parameter, bit for bit
    params = dict(model.named_parameters())
    renamed = {"attention.attention.q_bias": "attention.attention.query.bias",
               "attention.attention.v_bias": "attention.attention.value.bias"}
    with safe_open(os.path.join(dir_, "model.safetensors"), "pt") as f:
        meta = f.metadata()
        names = list(f.keys())
        for n in names:
            m = n
            for a, b in renamed.items():
                m = m.replace(a, b)
            if m not in params:
                fail(f"{dir_}: stored tensor {n} is not a parameter of {arch}")
            if not torch.equal(f.get_tensor(n), params[m].detach()):
                fail(f"{dir_}: {n} differs from the loaded parameter")
    if len(names) != len(params):
        fail(f"{dir_}: {len(names)} stored tensors for {len(params)} parameters")
    if meta.get("format") != "pt":
        fail(f"{dir_}: metadata format is {meta.get('format')!r}")

    try:
        proc_name = type(AutoImageProcessor.from_pretrained(dir_)).__name__
    except ImportError as e:  # the image processors need Pillow; the model does not
        proc_name = f"not checked ({str(e).strip().splitlines()[0]})"
    report = dict(dir=dir_, architecture=arch, tensors=len(names),
                  parameters=sum(p.numel() for p in params.values()), processor=proc_name,
                  warnings=len(cap.records))
    if arch == "VideoMAEForVideoClassification":
        report["id2label"] = [model.config.id2label[i] for i in range(model.config.num_labels)]

    c = model.config
    g = torch.Generator().manual_seed(0)
    if compare:
        with safe_open(compare, "pt") as f:
            exp = {k: f.get_tensor(k) for k in f.keys()}
        x = exp["pixel_values"]
    else:
        exp = None
        x = torch.randn(2, c.num_frames, c.num_channels, c.image_size, c.image_size, generator=g)
    eps_model = copy.deepcopy(model)
    for mod in eps_model.modules():
        if isinstance(mod, torch.nn.LayerNorm):
            mod.eps = c.layer_norm_eps
    with torch.no_grad():
        if arch == "VideoMAEForPreTraining":
            if exp is not None:
                mask = exp["mask"].bool()
            else:
                n = (c.num_frames // c.tubelet_size) * (c.image_size // c.patch_size) ** 2
                mask = torch.zeros(2, n, dtype=torch.bool)
                mask[:, : n * 3 // 4] = True
            out, alt = model(pixel_values=x, bool_masked_pos=mask), eps_model(pixel_values=x, bool_masked_pos=mask)
            report["loss"] = out.loss.item()
            report["eps_effect_rel"] = abs(out.loss.item() - alt.loss.item()) / abs(alt.loss.item())
            if exp is not None:
                report["recorded_loss_rel"] = abs(out.loss.item() - exp["loss"].item()) / abs(exp["loss"].item())
        else:
            out, alt = model(pixel_values=x), eps_model(pixel_values=x)
            report["eps_effect_rel"] = ((out.logits - alt.logits).abs().max() / alt.logits.abs().max()).item()
            if exp is not None:
                report["recorded_logits_rel"] = ((out.logits - exp["logits"]).abs().max() / exp["logits"].abs().max()).item()
        if not torch.isfinite(out.logits).all():
            fail(f"{dir_}: non-finite outputs")
    for k in ("recorded_loss_rel", "recorded_logits_rel"):
        if report.get(k, 0) > 1e-4:
            fail(f"{dir_}: {k} {report[k]:.3g} > 1e-4")

    if ck:
        import h5py
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
        import make_fixture
        kind = "pretrain" if arch == "VideoMAEForPreTraining" else "classify"
        with h5py.File(ck, "r") as h:
            native = {k: h["model"][k][...] for k in h["model"]}
            if kind == "classify":
                names_ck = json.loads(h["state"].attrs["class_names"])
                if names_ck != report["id2label"]:
                    fail(f"{dir_}: id2label {report['id2label']} but the checkpoint's class names are {names_ck}")
        fcfg = {"encoder_depth": c.num_hidden_layers, "decoder_depth": c.decoder_num_hidden_layers, "qkv_bias": c.qv_bias}
        hf = make_fixture.from_native(kind, fcfg, native)
        for n, t in hf.items():
            if not torch.equal(t, params[n].detach()):
                fail(f"{dir_}: {n} differs from the checkpoint's tensor")
        report["checkpoint_tensors_equal"] = len(hf)
    print(json.dumps(report))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--compare", help="a FIXTURE.expected.safetensors to reproduce (one DIR)")
    ap.add_argument("--vmae-checkpoint", help="the checkpoint the DIR was exported from (one DIR)")
    a = ap.parse_args()
    for d in a.dirs:
        check(d, a.compare, a.vmae_checkpoint)
    print("OK")


if __name__ == "__main__":
    main()
