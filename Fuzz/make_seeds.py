"""Writes the small binary seeds of the fuzz corpora (Fuzz/corpus/NAME/): a tiny safetensors
file, a tiny checkpoint and a tiny parity fixture in the layouts of docs/DESIGN (h5py, numpy).
Run once with the peer venv: /tmp/vmae-peer-venv/bin/python Fuzz/make_seeds.py"""
import json, os, struct
import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)

def out(name, file):
    os.makedirs(os.path.join(here, "corpus", name), exist_ok=True)
    return os.path.join(here, "corpus", name, file)

# safetensors: an F32, an F16 and a BF16 tensor plus metadata
def safetensors(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, dtype, arr in tensors:
        b = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h); f.write(b"".join(blobs))

safetensors(out("safetensors", "three.safetensors"), [
    ("a.weight", "F32", rng.standard_normal((2, 3)).astype("<f4")),
    ("b.bias", "F16", rng.standard_normal((4,)).astype("<f2")),
    ("c", "BF16", (rng.standard_normal((2, 2)).astype("<f4").view("<u4") >> 16).astype("<u2")),
], {"format": "pt"})
safetensors(out("safetensors", "empty.safetensors"), [], {})

# a checkpoint: two parameters, their AdamW moments, int/float state, a string attribute of /state
with h5py.File(out("checkpoint", "tiny.h5"), "w") as f:
    f.attrs["format"] = "vmae-checkpoint"; f.attrs["format_version"] = np.int64(1)
    f.attrs["task"] = "pretrain"; f.attrs["step"] = np.int64(3); f.attrs["epoch"] = np.int64(0)
    f.attrs["config"] = json.dumps({"task": "pretrain"}); f.attrs["created"] = "2026-01-01T00:00:00Z"
    for g in ["model", "optimizer/exp_avg", "optimizer/exp_avg_sq"]:
        f.create_dataset(g + "/mask_token", data=rng.standard_normal((1, 1, 4)).astype("f4"))
        f.create_dataset(g + "/decoder.head.bias", data=rng.standard_normal((8,)).astype("f4"))
    f.create_dataset("state/rng", data=np.arange(4, dtype="i8"))
    f.create_dataset("state/best_metric", data=np.array([0.5]))
    f["state"].attrs["data_order"] = "shuffled"

# a parity fixture of a 1-block model on 1×2×1×4×4 clips (patch 2, tubelet 2, width 4)
cfg = dict(img_size=4, num_frames=2, patch_size=2, tubelet_size=2, in_chans=1, encoder_embed_dim=4,
           encoder_depth=1, encoder_num_heads=1, decoder_embed_dim=4, decoder_depth=1, decoder_num_heads=1,
           mlp_ratio=1.0, qkv_bias=True, layer_norm_eps=1e-6, num_classes=0, use_mean_pooling=True,
           normalize_target=True)
D = 4
def block(p):
    return {p + "norm1.weight": (D,), p + "norm1.bias": (D,), p + "attn.qkv.weight": (3 * D, D),
            p + "attn.q_bias": (D,), p + "attn.v_bias": (D,), p + "attn.proj.weight": (D, D), p + "attn.proj.bias": (D,),
            p + "norm2.weight": (D,), p + "norm2.bias": (D,), p + "mlp.fc1.weight": (D, D), p + "mlp.fc1.bias": (D,),
            p + "mlp.fc2.weight": (D, D), p + "mlp.fc2.bias": (D,)}
params = {"encoder.patch_embed.proj.weight": (D, 1, 2, 2, 2), "encoder.patch_embed.proj.bias": (D,),
          **block("encoder.blocks.0."), "encoder.norm.weight": (D,), "encoder.norm.bias": (D,),
          "encoder_to_decoder.weight": (D, D), "mask_token": (1, 1, D), **block("decoder.blocks.0."),
          "decoder.norm.weight": (D,), "decoder.norm.bias": (D,), "decoder.head.weight": (8, D), "decoder.head.bias": (8,)}
with h5py.File(out("fixture", "tiny_pretrain.h5"), "w") as f:
    f.attrs["format"] = "vmae-parity-fixture"; f.attrs["format_version"] = np.int64(1)
    f.attrs["kind"] = "pretrain"; f.attrs["config"] = json.dumps(cfg)
    f.create_dataset("inputs/pixel_values", data=rng.standard_normal((1, 2, 1, 4, 4)).astype("f4"))
    f.create_dataset("inputs/mask", data=np.array([[1, 1, 1, 0]], dtype="u1"))
    for n, s in params.items():
        f.create_dataset("params/" + n, data=(0.5 * rng.standard_normal(s)).astype("f4"))
    f.create_dataset("expected/loss", data=np.float32(1.0))
    f.create_dataset("expected/grads/decoder.head.bias", data=np.zeros(8, dtype="f4"))
    d = f.create_dataset("expected/adamw/losses", data=np.ones(3, dtype="f4"))
    for k, v in dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.05).items():
        d.attrs[k] = v
