#!/usr/bin/env python3
"""Convert an original VideoMAE checkpoint (.pth, pickled PyTorch) to safetensors for `vmae import`.

Also converts a transformers pytorch_model.bin (Hugging Face names kept, no config written:
the folder's config.json serves).

The tensors keep the original VideoMAE names (encoder.blocks.0.attn.qkv.weight, …, or
blocks.0.… / fc_norm / head for a fine-tuned model), which are vmae's own names, so
`vmae import OUT.safetensors --config OUT.json` reads them directly. Accepted layouts: a bare
state dict, or one under 'model', 'module' or 'state_dict' (the original's engine saves
{'model': …, 'optimizer': …, 'epoch': …, 'args': …}); a 'module.' prefix (DistributedDataParallel)
is stripped. float32, float16 and bfloat16 tensors are written as they are, float64 as float32;
non-float entries are left out (and listed).

Alongside, a Hugging Face style config.json (--config-out, default OUT with .json) describes
the model: widths, depths, patch, tubelet and MLP size come from the tensor shapes; the number
of heads, frames and input size from the checkpoint's 'args' when it has them, else from the
flags, else the original's presets by width (encoder 192/384/768/1024/1280 → 3/6/12/16/16 heads,
decoder 192/384/512/640 → 3/6/8/8). layer_norm_eps is the original's 1e-6.

usage: pth_to_safetensors.py checkpoint.pth --out videomae.safetensors [--config-out F.json]
       [--heads N] [--decoder-heads N] [--num-frames 16] [--img-size 224] [--trust-pickle]
Then:  vmae import videomae.safetensors --config videomae.json --out imported.h5

Needs torch and safetensors (Tools/parity/requirements.txt); not needed to build or run vmae.
"""
import argparse
import json
import os
import re
import sys

import torch
from safetensors.torch import save_file

ENCODER_HEADS = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16}
DECODER_HEADS = {192: 3, 384: 6, 512: 8, 640: 8}
WRAPPERS = ("model", "module", "state_dict", "model_state")


def load_pickle(path, trust):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as first:  # noqa: BLE001 — an 'args' Namespace, numpy scalars, …
        if not trust:
            import argparse as _ap
            try:
                torch.serialization.add_safe_globals([_ap.Namespace])
                return torch.load(path, map_location="cpu", weights_only=True)
            except Exception:  # noqa: BLE001
                sys.exit(f"error: {path}: cannot be read as plain tensors ({str(first).splitlines()[0]}); "
                         "if you trust the file, rerun with --trust-pickle (it may run code from the pickle)")
        return torch.load(path, map_location="cpu", weights_only=False)


def unwrap(obj):
    """(state dict, args or None)."""
    args = None
    if isinstance(obj, dict):
        args = obj.get("args")
        for k in WRAPPERS:
            if k in obj and isinstance(obj[k], dict):
                obj = obj[k]
                break
    if not isinstance(obj, dict) or not any(torch.is_tensor(v) for v in obj.values()):
        sys.exit("error: no state dict of tensors in the checkpoint (looked at the top level and under "
                 + ", ".join(repr(w) for w in WRAPPERS) + ")")
    out = {}
    for k, v in obj.items():
        k = k[len("module."):] if k.startswith("module.") else k
        out[k] = v
    return out, args


def arg(args, name, default=None):
    if args is None:
        return default
    if isinstance(args, dict):
        return args.get(name, default)
    return getattr(args, name, default)


def count_blocks(sd, prefix):
    idx = {int(m.group(1)) for k in sd for m in [re.match(re.escape(prefix) + r"(\d+)\.", k)] if m}
    return max(idx) + 1 if idx else 0


def derive_config(sd, args, a):
    pre = "encoder." if "encoder.patch_embed.proj.weight" in sd else ""
    if pre + "patch_embed.proj.weight" not in sd:
        sys.exit("error: no patch_embed.proj.weight (nor encoder.patch_embed.proj.weight): not a VideoMAE checkpoint")
    D, C, t, p, _ = sd[pre + "patch_embed.proj.weight"].shape
    depth = count_blocks(sd, pre + "blocks.")
    hidden = sd[pre + "blocks.0.mlp.fc1.weight"].shape[0]
    model_name = str(arg(args, "model", "") or "")
    heads = a.heads or ENCODER_HEADS.get(D)
    if heads is None:
        sys.exit(f"error: encoder width {D} is not one of the original's presets: pass --heads")
    cfg = {
        "model_type": "videomae",
        "image_size": a.img_size or int(arg(args, "input_size", 224)),
        "num_frames": a.num_frames or int(arg(args, "num_frames", 16)),
        "patch_size": int(p), "tubelet_size": int(t), "num_channels": int(C),
        "hidden_size": int(D), "num_hidden_layers": depth, "num_attention_heads": heads,
        "intermediate_size": int(hidden), "hidden_act": "gelu",
        "layer_norm_eps": a.layer_norm_eps,
        "qkv_bias": pre + "blocks.0.attn.q_bias" in sd,
        "norm_pix_loss": bool(arg(args, "normlize_target", True)),
    }
    if pre:  # a pretraining checkpoint
        Dd = sd["decoder.norm.weight"].shape[0] if "decoder.norm.weight" in sd else None
        dh = a.decoder_heads or (DECODER_HEADS.get(Dd) if Dd else None)
        if Dd is not None and dh is None:
            sys.exit(f"error: decoder width {Dd} is not one of the original's presets: pass --decoder-heads")
        cfg["architectures"] = ["VideoMAEForPreTraining"]
        cfg["use_mean_pooling"] = "encoder.norm.weight" not in sd
        if Dd is not None:
            cfg.update(decoder_hidden_size=int(Dd), decoder_num_hidden_layers=count_blocks(sd, "decoder.blocks."),
                       decoder_num_attention_heads=dh,
                       decoder_intermediate_size=int(sd["decoder.blocks.0.mlp.fc1.weight"].shape[0])
                       if "decoder.blocks.0.mlp.fc1.weight" in sd else int(Dd * hidden // D))
    else:    # a fine-tuned classifier
        cfg["architectures"] = ["VideoMAEForVideoClassification"]
        cfg["use_mean_pooling"] = "fc_norm.weight" in sd
        if "head.weight" in sd:
            k = sd["head.weight"].shape[0]
            cfg["id2label"] = {str(i): f"LABEL_{i}" for i in range(k)}
            cfg["label2id"] = {f"LABEL_{i}": i for i in range(k)}
    if model_name:
        cfg["_original_model"] = model_name
    return cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pth")
    ap.add_argument("--out", required=True, help="the .safetensors file to write")
    ap.add_argument("--config-out", help="the config JSON to write (default: OUT with .json)")
    ap.add_argument("--heads", type=int)
    ap.add_argument("--decoder-heads", type=int)
    ap.add_argument("--num-frames", type=int)
    ap.add_argument("--img-size", type=int)
    ap.add_argument("--tubelet-size", type=int, help="checked against the patch embedding's shape")
    ap.add_argument("--layer-norm-eps", type=float, default=1e-6)
    ap.add_argument("--trust-pickle", action="store_true",
                    help="allow arbitrary pickled objects (only for files you trust)")
    a = ap.parse_args()

    sd, args = unwrap(load_pickle(a.pth, a.trust_pickle))
    tensors, skipped = {}, []
    for k, v in sd.items():
        if not torch.is_tensor(v) or not v.is_floating_point():
            skipped.append(k)
            continue
        if v.dtype not in (torch.float32, torch.float16, torch.bfloat16):
            v = v.to(torch.float32)
        tensors[k] = v.detach().contiguous().clone()   # clone: shared storage is refused by save_file
    if any(k.startswith(("videomae.", "embeddings.", "encoder.layer.")) for k in tensors):
        # a transformers pytorch_model.bin: Hugging Face names, which vmae reads as they are;
        # the folder's config.json describes the model
        save_file(tensors, a.out, metadata={"format": "pt"})
        print(f"wrote {a.out}: {len(tensors)} tensors under Hugging Face names (no config written: "
              "use the model's config.json; name the file model.safetensors beside it)")
        return
    cfg = derive_config(tensors, args, a)
    if a.tubelet_size and a.tubelet_size != cfg["tubelet_size"]:
        sys.exit(f"error: --tubelet-size {a.tubelet_size} but the patch embedding has tubelet {cfg['tubelet_size']}")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    save_file(tensors, a.out, metadata={"format": "pt", "source": os.path.basename(a.pth)})
    cfg_out = a.config_out or os.path.splitext(a.out)[0] + ".json"
    with open(cfg_out, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {a.out}: {len(tensors)} tensors" + (f" (left out, not float: {', '.join(skipped)})" if skipped else ""))
    print(f"wrote {cfg_out}: {cfg['architectures'][0]}, {cfg['hidden_size']}/{cfg['num_hidden_layers']}/"
          f"{cfg['num_attention_heads']} encoder")
    print(f"next: vmae import {a.out} --config {cfg_out} --out imported.h5")


if __name__ == "__main__":
    main()
