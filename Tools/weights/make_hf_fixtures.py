#!/usr/bin/env python3
"""Proof data for `vmae import` / `vmae export`: small random-weight Hugging Face VideoMAE models
saved with `save_pretrained`, and their outputs on a fixed input.

Writes, under --out (default Tests/Fixtures/hf):

  pretrain/                    VideoMAEForPreTraining, float32, use_mean_pooling=false (so HF
                               builds videomae.layernorm = vmae's encoder.norm), HF's default eps
                               (layer_norm_eps 1e-12; decoder.norm keeps HF's own 1e-5)
  pretrain.expected.safetensors  pixel_values [B,T,C,H,W], mask [B,N] (1 = masked, float32),
                               loss [] (HF's own loss, norm_pix_loss), logits [B,Nm,C*t*p*p]
  classify_bf16/               VideoMAEForVideoClassification saved in bfloat16, mean pooling +
                               fc_norm (HF's 1e-5), id2label with 5 names, eps 1e-6
  classify_bf16.expected.safetensors  pixel_values, labels (float32), loss [] (plain CE), logits [B,K]
                               (of the float32 model holding the bfloat16-rounded weights)
  model_f16_sharded/           VideoMAEModel (no "videomae." prefix, no q/v bias), float16,
                               sharded: model-0000x-of-0000y.safetensors + model.safetensors.index.json
  model_f16_sharded.expected.safetensors  pixel_values, last_hidden_state [B,N,D]
  original_pretrain.safetensors + original_pretrain.json
                               the pretrain/ weights under the original VideoMAE names, written by
                               pth_to_safetensors.py from a {'model': state_dict} .pth; the config is
                               the one the converter writes (--heads given)

The outputs are HF's, with HF's LayerNorm eps (decoder.norm and fc_norm at 1e-5 whatever
layer_norm_eps says). vmae has one layer_norm_eps; the Swift tests check the recorded loss and
logits within 1e-4 relative all the same, and this script prints how far a model with every
LayerNorm at layer_norm_eps is from the recorded numbers ("eps_effect_rel"): that is the error
vmae's import carries by design.

usage: make_hf_fixtures.py [--out Tests/Fixtures/hf]   (torch on one thread, fixed seeds:
       the same versions regenerate the same numbers)
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import save_file

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

from transformers import (VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification,  # noqa: E402
                          VideoMAEModel)
from transformers.utils import logging as hf_logging  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "parity"))
import make_fixture  # noqa: E402  (the colleague's HF -> native name mapping)

hf_logging.set_verbosity_error()


def reinit(model, gen):
    """Every parameter random, as the parity fixtures: weights N(0, 1/fan_in), LayerNorm weights
    1 + N(0, 0.1^2), biases N(0, 0.1^2), mask_token N(0, 0.5^2)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "mask_token":
                v = 0.5 * torch.randn(p.shape, generator=gen)
            elif p.dim() == 1 and name.endswith(".weight"):
                v = 1.0 + 0.1 * torch.randn(p.shape, generator=gen)
            elif p.dim() == 1 or name.endswith("_bias"):
                v = 0.1 * torch.randn(p.shape, generator=gen)
            else:
                v = torch.randn(p.shape, generator=gen) / math.sqrt(p[0].numel())
            p.copy_(v.to(p.dtype))


def tiny_config(**kw):
    base = dict(image_size=32, num_frames=4, patch_size=8, tubelet_size=2, num_channels=3,
                hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
                decoder_hidden_size=16, decoder_num_hidden_layers=1, decoder_num_attention_heads=2,
                decoder_intermediate_size=64, hidden_act="gelu", attn_implementation="eager")
    base.update(kw)
    return VideoMAEConfig(**base)


def set_all_eps(model, eps):
    """A copy of `model` whose every LayerNorm uses `eps` (what vmae computes)."""
    import copy
    m = copy.deepcopy(model)
    for mod in m.modules():
        if isinstance(mod, torch.nn.LayerNorm):
            mod.eps = eps
    return m


def rel(a, b):
    a, b = a.double(), b.double()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def tube_mask(B, tg, ns, ratio, rng):
    k = int(ratio * ns)
    rows = []
    for _ in range(B):
        m = np.zeros(ns, dtype=np.uint8)
        m[rng.permutation(ns)[:k]] = 1
        rows.append(np.tile(m, tg))
    return np.stack(rows)


def save_expected(path, tensors, meta):
    save_file({k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}, path,
              metadata={k: str(v) for k, v in meta.items()})


def make_pretrain(out, gen, rng):
    cfg = tiny_config(use_mean_pooling=False, norm_pix_loss=True)   # layer_norm_eps: HF default 1e-12
    model = VideoMAEForPreTraining(cfg).eval()
    reinit(model, gen)
    B = 2
    x = torch.randn(B, 4, 3, 32, 32, generator=gen)
    mask = tube_mask(B, 2, 16, 0.75, rng)
    bmask = torch.from_numpy(mask).bool()
    with torch.no_grad():
        o = model(pixel_values=x, bool_masked_pos=bmask)
        vm = set_all_eps(model, cfg.layer_norm_eps)(pixel_values=x, bool_masked_pos=bmask)
    d = os.path.join(out, "pretrain")
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d)
    save_expected(d + ".expected.safetensors",
                  {"pixel_values": x, "mask": torch.from_numpy(mask).float(), "loss": o.loss, "logits": o.logits},
                  {"kind": "pretrain", "source": "VideoMAEForPreTraining", "decoder_norm_eps": 1e-5,
                   "layer_norm_eps": cfg.layer_norm_eps})
    return model, dict(name="pretrain", loss=o.loss.item(),
                       eps_effect_rel_loss=abs(vm.loss.item() - o.loss.item()) / abs(o.loss.item()),
                       eps_effect_rel_logits=rel(vm.logits, o.logits))


def make_classify(out, gen, rng):
    names = ["walk", "run", "jump", "swim", "climb"]
    cfg = tiny_config(hidden_size=48, num_attention_heads=3, intermediate_size=192, layer_norm_eps=1e-6,
                      use_mean_pooling=True, num_labels=5, id2label={i: n for i, n in enumerate(names)},
                      label2id={n: i for i, n in enumerate(names)})
    model = VideoMAEForVideoClassification(cfg).eval()
    reinit(model, gen)
    # the float32 model that holds exactly what the bfloat16 file holds
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).to(torch.float32))
    B = 3
    x = torch.randn(B, 4, 3, 32, 32, generator=gen)
    labels = torch.from_numpy(rng.integers(0, 5, size=B).astype(np.int64))
    with torch.no_grad():
        o = model(pixel_values=x, labels=labels)
        vm = set_all_eps(model, 1e-6)(pixel_values=x, labels=labels)
    d = os.path.join(out, "classify_bf16")
    shutil.rmtree(d, ignore_errors=True)
    model.to(torch.bfloat16).save_pretrained(d)
    save_expected(d + ".expected.safetensors",
                  {"pixel_values": x, "labels": labels.float(), "loss": o.loss, "logits": o.logits},
                  {"kind": "classify", "source": "VideoMAEForVideoClassification", "fc_norm_eps": 1e-5,
                   "layer_norm_eps": 1e-6, "stored_dtype": "bfloat16"})
    return dict(name="classify_bf16", loss=o.loss.item(),
                eps_effect_rel_loss=abs(vm.loss.item() - o.loss.item()) / abs(o.loss.item()),
                eps_effect_rel_logits=rel(vm.logits, o.logits))


def make_sharded(out, gen):
    cfg = tiny_config(hidden_size=24, num_attention_heads=2, intermediate_size=48, num_hidden_layers=3,
                      qv_bias=False, use_mean_pooling=False, layer_norm_eps=1e-6, num_frames=8, tubelet_size=4)
    model = VideoMAEModel(cfg).eval()
    reinit(model, gen)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.float16).to(torch.float32))
    B = 2
    x = torch.randn(B, 8, 3, 32, 32, generator=gen)
    with torch.no_grad():
        h = model(pixel_values=x).last_hidden_state
    d = os.path.join(out, "model_f16_sharded")
    shutil.rmtree(d, ignore_errors=True)
    model.to(torch.float16).save_pretrained(d, max_shard_size="10KB")
    shards = sorted(f for f in os.listdir(d) if f.endswith(".safetensors"))
    assert len(shards) > 1 and os.path.exists(os.path.join(d, "model.safetensors.index.json")), shards
    save_expected(d + ".expected.safetensors", {"pixel_values": x, "last_hidden_state": h},
                  {"kind": "encoder", "source": "VideoMAEModel", "stored_dtype": "float16"})
    return dict(name="model_f16_sharded", shards=len(shards))


def make_original(out, pretrain_model):
    """The pretrain/ weights under the original VideoMAE names, through the .pth converter."""
    cfg = pretrain_model.config
    fixture_cfg = {"encoder_depth": cfg.num_hidden_layers, "decoder_depth": cfg.decoder_num_hidden_layers,
                   "qkv_bias": cfg.qv_bias}
    hf = {n: p.detach().clone() for n, p in pretrain_model.named_parameters()}
    native = make_fixture.to_native("pretrain", fixture_cfg, hf)
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "checkpoint-799.pth")
        # what the original's engine saves: {'model': state_dict, 'epoch': …}
        torch.save({"model": {k: torch.from_numpy(v) for k, v in native.items()}, "epoch": 799}, pth)
        dst = os.path.join(out, "original_pretrain.safetensors")
        subprocess.run([sys.executable, os.path.join(HERE, "pth_to_safetensors.py"), pth, "--out", dst,
                        "--config-out", os.path.join(out, "original_pretrain.json"),
                        "--heads", str(cfg.num_attention_heads), "--decoder-heads", str(cfg.decoder_num_attention_heads),
                        "--num-frames", str(cfg.num_frames), "--img-size", str(cfg.image_size),
                        "--tubelet-size", str(cfg.tubelet_size), "--layer-norm-eps", str(cfg.layer_norm_eps)],
                       check=True)
    return dict(name="original_pretrain", tensors=len(native))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "Tests", "Fixtures", "hf"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    model, r1 = make_pretrain(out, gen, rng)
    reports = [r1, make_classify(out, gen, rng), make_sharded(out, gen), make_original(out, model)]
    total = 0
    for root, _, files in os.walk(out):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    for r in reports:
        print(json.dumps(r))
    print(json.dumps({"out": out, "bytes": total}))


if __name__ == "__main__":
    main()
