#!/usr/bin/env python3
"""Make one vmae parity fixture (HDF5) from Hugging Face transformers' VideoMAE.

Builds VideoMAEForPreTraining (kind "pretrain") or VideoMAEForVideoClassification (kind
"classify") from a small config, reinitializes every parameter randomly in float32 with a
fixed seed, runs forward -> loss -> backward, then S steps of torch.optim.AdamW on the same
batch, and writes the file in the format of DESIGN.md, "Parity fixture (HDF5)": inputs,
initial parameters and gradients under the native (original VideoMAE) names, the loss,
the logits (classify) and the AdamW loss trajectory.

The design is the contract. Where transformers differs from it, this script follows the
design (see README.md, "Where Hugging Face differs from the design"):
  * every LayerNorm gets layer_norm_eps (HF builds decoder.norm and fc_norm with 1e-5);
  * the pretraining encoder always has encoder.norm (HF only builds videomae.layernorm
    when use_mean_pooling is false, so pretrain fixtures use use_mean_pooling=false);
  * the loss is computed here from HF's logits with the design's formula (checked against
    HF's own loss for pretraining; classification uses label smoothing, which HF lacks).

With --decoder-mask-ratio R > 0 (VideoMAE V2's dual masking) the pretraining forward is V2's
(PretrainVisionTransformer.forward with decode_mask, run on HF's modules): the decoder gets the
visible tokens plus mask tokens at the positions the running-cell decoder mask keeps (V2's
RunningCellMaskingGenerator, drawn independently of the encoder mask, as V2's data pipeline
does), and the loss is over those positions; /inputs/decoder_mask holds V2's decode_masked_pos
(uint8 [B, N], 1 = not reconstructed).

usage: make_fixture.py --kind pretrain --out F.h5 [--mask tube --mask-ratio 0.75 ...]
       make_fixture.py --help
"""
import argparse
import copy
import json
import math
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

from transformers import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Per-block parameter names: HF suffix -> native suffix (query/key/value are fused separately).
BLOCK_MAP = {
    "attention.output.dense.weight": "attn.proj.weight",
    "attention.output.dense.bias": "attn.proj.bias",
    "layernorm_before.weight": "norm1.weight",
    "layernorm_before.bias": "norm1.bias",
    "layernorm_after.weight": "norm2.weight",
    "layernorm_after.bias": "norm2.bias",
    "intermediate.dense.weight": "mlp.fc1.weight",
    "intermediate.dense.bias": "mlp.fc1.bias",
    "output.dense.weight": "mlp.fc2.weight",
    "output.dense.bias": "mlp.fc2.bias",
    "attention.attention.query.bias": "attn.q_bias",
    "attention.attention.value.bias": "attn.v_bias",
}
QKV = ("attention.attention.query.weight", "attention.attention.key.weight", "attention.attention.value.weight")


def block_prefixes(kind, cfg):
    """(HF prefix, native prefix) for every transformer block."""
    enc = "encoder.blocks" if kind == "pretrain" else "blocks"
    out = [(f"videomae.encoder.layer.{i}.", f"{enc}.{i}.") for i in range(cfg["encoder_depth"])]
    if kind == "pretrain":
        out += [(f"decoder.decoder_layers.{i}.", f"decoder.blocks.{i}.") for i in range(cfg["decoder_depth"])]
    return out


def plain_map(kind):
    """HF name -> native name for the parameters outside the blocks."""
    if kind == "pretrain":
        return {
            "videomae.embeddings.patch_embeddings.projection.weight": "encoder.patch_embed.proj.weight",
            "videomae.embeddings.patch_embeddings.projection.bias": "encoder.patch_embed.proj.bias",
            "videomae.layernorm.weight": "encoder.norm.weight",
            "videomae.layernorm.bias": "encoder.norm.bias",
            "encoder_to_decoder.weight": "encoder_to_decoder.weight",
            "mask_token": "mask_token",
            "decoder.norm.weight": "decoder.norm.weight",
            "decoder.norm.bias": "decoder.norm.bias",
            "decoder.head.weight": "decoder.head.weight",
            "decoder.head.bias": "decoder.head.bias",
        }
    return {
        "videomae.embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
        "videomae.embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
        "fc_norm.weight": "fc_norm.weight",
        "fc_norm.bias": "fc_norm.bias",
        "classifier.weight": "head.weight",
        "classifier.bias": "head.bias",
    }


def to_native(kind, cfg, hf):
    """{HF name: tensor} -> {native name: float32 numpy array}; every HF entry used exactly once.
    Works for parameters and for their gradients alike (qkv = row-concatenation of q, k, v)."""
    left = dict(hf)
    out = {}
    for h, n in plain_map(kind).items():
        out[n] = left.pop(h)
    for hp, np_ in block_prefixes(kind, cfg):
        out[np_ + "attn.qkv.weight"] = torch.cat([left.pop(hp + s) for s in QKV], 0)
        for hs, ns in BLOCK_MAP.items():
            if hp + hs in left:
                out[np_ + ns] = left.pop(hp + hs)
            elif not (hs.endswith("query.bias") or hs.endswith("value.bias")) or cfg["qkv_bias"]:
                raise KeyError(hp + hs)
    if left:
        raise KeyError(f"unmapped HF parameters: {sorted(left)}")
    return {k: v.detach().to(torch.float32).cpu().numpy().copy() for k, v in out.items()}


def from_native(kind, cfg, native):
    """Inverse of to_native: {native name: array} -> {HF name: tensor} (for the round-trip check)."""
    out = {}
    for h, n in plain_map(kind).items():
        out[h] = torch.from_numpy(native[n])
    for hp, np_ in block_prefixes(kind, cfg):
        q, k, v = torch.from_numpy(native[np_ + "attn.qkv.weight"]).chunk(3, 0)
        out[hp + QKV[0]], out[hp + QKV[1]], out[hp + QKV[2]] = q, k, v
        for hs, ns in BLOCK_MAP.items():
            if np_ + ns in native:
                out[hp + hs] = torch.from_numpy(native[np_ + ns])
    return out


def build_model(kind, cfg, num_labels):
    D, Dd = cfg["encoder_embed_dim"], cfg["decoder_embed_dim"]
    hf_cfg = VideoMAEConfig(
        image_size=cfg["img_size"], num_frames=cfg["num_frames"], patch_size=cfg["patch_size"],
        tubelet_size=cfg["tubelet_size"], num_channels=cfg["in_chans"],
        hidden_size=D, num_hidden_layers=cfg["encoder_depth"], num_attention_heads=cfg["encoder_num_heads"],
        intermediate_size=int(D * cfg["mlp_ratio"]),
        decoder_hidden_size=Dd, decoder_num_hidden_layers=cfg["decoder_depth"],
        decoder_num_attention_heads=cfg["decoder_num_heads"], decoder_intermediate_size=int(Dd * cfg["mlp_ratio"]),
        hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        layer_norm_eps=cfg["layer_norm_eps"], qv_bias=cfg["qkv_bias"],
        # HF: use_mean_pooling=True drops videomae.layernorm (= encoder.norm), which the
        # pretraining model always has; for classification it selects mean pooling + fc_norm.
        use_mean_pooling=(kind == "classify"),
        norm_pix_loss=cfg["normalize_target"], num_labels=num_labels,
        attn_implementation="eager",
    )
    model = (VideoMAEForPreTraining if kind == "pretrain" else VideoMAEForVideoClassification)(hf_cfg)
    # HF builds these two LayerNorms with the torch default eps 1e-5; the design says layer_norm_eps.
    if kind == "pretrain":
        model.decoder.norm.eps = cfg["layer_norm_eps"]
    else:
        model.fc_norm.eps = cfg["layer_norm_eps"]
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.LayerNorm):
            assert mod.eps == cfg["layer_norm_eps"], (name, mod.eps)
        if isinstance(mod, torch.nn.Dropout):
            assert mod.p == 0.0, name
    return model.eval()  # no dropout / drop path anywhere; eval() only to be explicit


def reinit(model, gen):
    """Every parameter random: weights N(0, std 1/sqrt(fan_in)), LayerNorm weights 1 + N(0, 0.1^2),
    every bias (q_bias/v_bias included) N(0, 0.1^2), mask_token N(0, 0.5^2)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "mask_token":
                v = 0.5 * torch.randn(p.shape, generator=gen)
            elif p.dim() == 1 and name.endswith(".weight"):  # LayerNorm
                v = 1.0 + 0.1 * torch.randn(p.shape, generator=gen)
            elif p.dim() == 1:  # bias
                v = 0.1 * torch.randn(p.shape, generator=gen)
            else:  # Linear [out, in] or Conv3d [D, C, t, p, p]
                fan_in = p[0].numel()
                v = torch.randn(p.shape, generator=gen) / math.sqrt(fan_in)
            p.copy_(v.to(p.dtype))


def make_mask(kind_of_mask, ratio, B, tg, ns, rng):
    N = tg * ns
    rows = []
    for _ in range(B):
        if kind_of_mask == "tube":
            k = int(ratio * ns)
            m = np.zeros(ns, dtype=np.uint8)
            m[rng.permutation(ns)[:k]] = 1
            m = np.tile(m, tg)  # same spatial positions in every temporal group (time-major order)
        else:
            k = int(ratio * N)
            m = np.zeros(N, dtype=np.uint8)
            m[rng.permutation(N)[:k]] = 1
        rows.append(m)
    mask = np.stack(rows)
    assert len(set(mask.sum(1).tolist())) == 1 and 0 < mask[0].sum() < N
    return mask


def running_cell_maps(tg, rows, cols, ratio):
    """VideoMAE V2's RunningCellMaskingGenerator: the cell size (4) maps [tg, rows*cols], 1 = masked
    in the decoder. A 2x2 cell holds int(4*ratio) ones then zeros; map ptr starts the queue at ptr
    and moves it one step per temporal group before it is read, tiled over the frame."""
    m = int(4 * ratio)
    assert 0 < m < 4 and rows % 2 == 0 and cols % 2 == 0
    queue = np.hstack([np.ones(m), np.zeros(4 - m)])
    maps = []
    for pos in range(4):
        ptr, frames = pos, []
        for _ in range(tg):
            ptr += 1
            unit = queue[(np.arange(4) + ptr) % 4].reshape(2, 2)
            frames.append(np.tile(unit, [rows // 2, cols // 2]).flatten())
        maps.append(np.stack(frames, 0))
    return np.stack(maps, 0).astype(np.uint8)


def make_decoder_mask(ratio, B, tg, rows, cols, rng):
    maps = running_cell_maps(tg, rows, cols, ratio)
    return np.stack([maps[rng.integers(4)].reshape(-1) for _ in range(B)])


def pretrain_dual_logits(model, pixel_values, bmask, dmask):
    """V2's forward on HF's modules: mask tokens at ~decode_mask instead of at the encoder mask."""
    seq = model.encoder_to_decoder(model.videomae(pixel_values, bool_masked_pos=bmask).last_hidden_state)
    B, _, C = seq.shape
    pe = model.position_embeddings.expand(B, -1, -1).type_as(pixel_values).detach().clone()
    pos_vis = pe[~bmask].reshape(B, -1, C)
    pos_dec = pe[~dmask].reshape(B, -1, C)
    x_full = torch.cat([seq + pos_vis, model.mask_token + pos_dec], dim=1)
    return model.decoder(x_full, pos_dec.shape[1]).logits


def pretrain_target(pixel_values, cfg):
    """DESIGN.md 'Loss (pretraining)' steps 1-4: [B, N, t*p*p*C] in the decoder head's order."""
    B, T, C, H, W = pixel_values.shape
    t, p = cfg["tubelet_size"], cfg["patch_size"]
    mean = torch.tensor(IMAGENET_MEAN, dtype=pixel_values.dtype)[None, None, :, None, None]
    std = torch.tensor(IMAGENET_STD, dtype=pixel_values.dtype)[None, None, :, None, None]
    x = pixel_values * std + mean
    x = x.reshape(B, T // t, t, C, H // p, p, W // p, p).permute(0, 1, 4, 6, 2, 5, 7, 3)  # b i y x dt dy dx c
    x = x.reshape(B, -1, t * p * p, C)
    if cfg["normalize_target"]:
        x = (x - x.mean(2, keepdim=True)) / (x.var(2, unbiased=True, keepdim=True).sqrt() + 1e-6)
    return x.reshape(B, x.shape[1], t * p * p * C)


def run(model, kind, cfg, pixel_values, mask, labels, smoothing, check_hf_loss=False, dmask=None):
    """Returns (loss, logits). loss = the design's loss computed from HF's logits."""
    if kind == "pretrain" and dmask is not None:
        bmask, dm = torch.from_numpy(mask).bool(), torch.from_numpy(dmask).bool()
        logits = pretrain_dual_logits(model, pixel_values, bmask, dm)
        B = mask.shape[0]
        tgt = pretrain_target(pixel_values, cfg)[~dm].reshape(B, -1, logits.shape[-1])
        if check_hf_loss:  # with the decoder mask = not the encoder mask, V2's forward is HF's
            ref = model(pixel_values=pixel_values, bool_masked_pos=bmask).logits
            same = pretrain_dual_logits(model, pixel_values, bmask, ~bmask)
            assert torch.equal(ref, same), "V2's forward without decoder masking differs from HF's"
        return ((logits - tgt) ** 2).mean(), logits
    if kind == "pretrain":
        bmask = torch.from_numpy(mask).bool()
        out = model(pixel_values=pixel_values, bool_masked_pos=bmask)
        B = mask.shape[0]
        tgt = pretrain_target(pixel_values, cfg)[bmask].reshape(B, -1, out.logits.shape[-1])
        loss = ((out.logits - tgt) ** 2).mean()
        if check_hf_loss:
            rel = abs(loss.item() - out.loss.item()) / abs(out.loss.item())
            assert rel < 1e-6, f"design loss {loss.item()} vs HF loss {out.loss.item()}"
        return loss, out.logits
    out = model(pixel_values=pixel_values)
    loss = F.cross_entropy(out.logits, labels, label_smoothing=smoothing)
    if check_hf_loss and smoothing == 0.0:
        hf = model(pixel_values=pixel_values, labels=labels).loss
        assert abs(loss.item() - hf.item()) <= 1e-6 * abs(hf.item()), (loss.item(), hf.item())
    return loss, out.logits


def adamw_groups(model, wd):
    decay, rest = [], []
    for n, p in model.named_parameters():
        (decay if p.dim() >= 2 and n != "mask_token" else rest).append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}]


def forward_backward_adamw(model, kind, cfg, x, mask, labels, a, check_hf_loss=False, dmask=None):
    """loss, logits and HF-named grads at the initial state, then the AdamW loss trajectory."""
    model.zero_grad(set_to_none=True)
    loss, logits = run(model, kind, cfg, x, mask, labels, a.label_smoothing, check_hf_loss, dmask)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.AdamW(adamw_groups(model, a.weight_decay), lr=a.lr, betas=(a.beta1, a.beta2),
                            eps=a.adam_eps, foreach=False)
    losses = [loss.item()]
    for s in range(a.steps):
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss_s, _ = run(model, kind, cfg, x, mask, labels, a.label_smoothing, dmask=dmask)
        losses.append(loss_s.item())
        if s + 1 < a.steps:
            loss_s.backward()
    return loss.detach(), logits.detach(), grads, losses


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    B_ = argparse.BooleanOptionalAction
    ap.add_argument("--kind", choices=["pretrain", "classify"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--img-size", type=int, default=32)
    ap.add_argument("--num-frames", type=int, default=4)
    ap.add_argument("--patch-size", type=int, default=8)
    ap.add_argument("--tubelet-size", type=int, default=2)
    ap.add_argument("--in-chans", type=int, default=3, choices=[3])
    ap.add_argument("--embed-dim", type=int, default=48)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--heads", type=int, default=3)
    ap.add_argument("--decoder-embed-dim", type=int, default=24)
    ap.add_argument("--decoder-depth", type=int, default=1)
    ap.add_argument("--decoder-heads", type=int, default=2)
    ap.add_argument("--mlp-ratio", type=float, default=4.0)
    ap.add_argument("--qkv-bias", action=B_, default=True)
    ap.add_argument("--layer-norm-eps", type=float, default=1e-6)
    ap.add_argument("--normalize-target", action=B_, default=True)
    ap.add_argument("--mask", choices=["tube", "random"], default="tube")
    ap.add_argument("--mask-ratio", type=float, default=0.75)
    ap.add_argument("--decoder-mask-ratio", type=float, default=0.0,
                    help="VideoMAE V2 running-cell decoder masking (0 = off)")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--num-classes", type=int, default=5)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--adam-eps", type=float, default=1e-8)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--check64", action=B_, default=True,
                    help="recompute loss, grads and AdamW losses in float64 and print the deviation")
    a = ap.parse_args()
    kind = a.kind
    if kind == "pretrain":
        a.label_smoothing = 0.0

    # The fixture config: exactly the keys of DESIGN.md, in its order.
    cfg = {
        "img_size": a.img_size, "num_frames": a.num_frames, "patch_size": a.patch_size,
        "tubelet_size": a.tubelet_size, "in_chans": a.in_chans,
        "encoder_embed_dim": a.embed_dim, "encoder_depth": a.depth, "encoder_num_heads": a.heads,
        "decoder_embed_dim": a.decoder_embed_dim, "decoder_depth": a.decoder_depth,
        "decoder_num_heads": a.decoder_heads, "mlp_ratio": float(a.mlp_ratio),
        "qkv_bias": bool(a.qkv_bias), "layer_norm_eps": float(a.layer_norm_eps),
        "num_classes": a.num_classes,  # pretrain: unused (no classifier), kept positive
        "use_mean_pooling": kind == "classify",
        "normalize_target": bool(a.normalize_target),
    }
    assert a.img_size % a.patch_size == 0 and a.num_frames % a.tubelet_size == 0
    assert a.embed_dim % a.heads == 0 and a.decoder_embed_dim % a.decoder_heads == 0
    tg, ns = a.num_frames // a.tubelet_size, (a.img_size // a.patch_size) ** 2
    N = tg * ns

    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    model = build_model(kind, cfg, a.num_classes)
    reinit(model, gen)
    init_hf = {n: p.detach().clone() for n, p in model.named_parameters()}
    params = to_native(kind, cfg, init_hf)

    B = a.batch
    x = torch.randn(B, a.num_frames, a.in_chans, a.img_size, a.img_size, generator=gen, dtype=torch.float32)
    mask = labels = dmask = None
    if kind == "pretrain":
        mask = make_mask(a.mask, a.mask_ratio, B, tg, ns, rng)
        if a.decoder_mask_ratio > 0:
            side = a.img_size // a.patch_size
            dmask = make_decoder_mask(a.decoder_mask_ratio, B, tg, side, side, rng)
    else:
        labels = torch.from_numpy(rng.integers(0, a.num_classes, size=B).astype(np.int64))

    model64 = copy.deepcopy(model).double() if a.check64 else None
    loss, logits, grads_hf, losses = forward_backward_adamw(model, kind, cfg, x, mask, labels, a, check_hf_loss=True, dmask=dmask)
    grads = to_native(kind, cfg, grads_hf)

    # Round trip: the native parameters loaded back into a fresh HF model give the same loss.
    fresh = build_model(kind, cfg, a.num_classes)
    fresh.load_state_dict(from_native(kind, cfg, params), strict=True)
    with torch.no_grad():
        l2, _ = run(fresh, kind, cfg, x, mask, labels, a.label_smoothing, dmask=dmask)
    assert l2.item() == loss.item(), (l2.item(), loss.item())

    report = {"loss": loss.item(), "losses": losses}
    if model64 is not None:
        loss64, logits64, g64_hf, losses64 = forward_backward_adamw(model64, kind, cfg, x.double(), mask, labels, a, dmask=dmask)
        g64 = to_native(kind, cfg, {k: v for k, v in g64_hf.items()})  # cast to f32 for comparison
        report["f64_loss_rel"] = abs(loss.item() - loss64.item()) / abs(loss64.item())
        report["f64_grad_worst"] = float(max(np.abs(grads[k] - g64[k]).max() / max(np.abs(g64[k]).max(), 1e-30) for k in grads))
        report["f64_adamw_rel"] = max(abs(u - v) / abs(v) for u, v in zip(losses, losses64))
        if kind == "classify":
            report["f64_logits_abs"] = (logits.double() - logits64).abs().max().item()

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with h5py.File(tmp, "w", track_order=False) as f:
        f.attrs["format"] = "vmae-parity-fixture"
        f.attrs["format_version"] = np.int64(1)
        f.attrs["kind"] = kind
        f.attrs["config"] = json.dumps(cfg)
        f.create_dataset("inputs/pixel_values", data=x.numpy().astype(np.float32))
        if kind == "pretrain":
            f.create_dataset("inputs/mask", data=mask.astype(np.uint8))
            if dmask is not None:
                d = f.create_dataset("inputs/decoder_mask", data=dmask.astype(np.uint8))
                d.attrs["decoder_mask_ratio"] = np.float64(a.decoder_mask_ratio)
        else:
            f.create_dataset("inputs/labels", data=labels.numpy().astype(np.int64))
        for k in sorted(params):
            f.create_dataset("params/" + k, data=params[k].astype(np.float32))
        f.create_dataset("expected/loss", data=np.float32(loss.item()))
        if kind == "classify":
            d = f.create_dataset("expected/logits", data=logits.numpy().astype(np.float32))
            # The design puts the attr on the logits; np_reference.py reads it from /expected: both.
            d.attrs["label_smoothing"] = np.float64(a.label_smoothing)
            f["expected"].attrs["label_smoothing"] = np.float64(a.label_smoothing)
        for k in sorted(grads):
            f.create_dataset("expected/grads/" + k, data=grads[k].astype(np.float32))
        d = f.create_dataset("expected/adamw/losses", data=np.array(losses, dtype=np.float32))
        for k, v in (("lr", a.lr), ("beta1", a.beta1), ("beta2", a.beta2), ("eps", a.adam_eps),
                     ("weight_decay", a.weight_decay)):
            d.attrs[k] = np.float64(v)
    os.replace(tmp, a.out)
    nparams = sum(v.size for v in params.values())
    print(json.dumps(dict(out=a.out, kind=kind, N=N, masked=int(mask[0].sum()) if mask is not None else 0,
                          params=nparams, bytes=os.path.getsize(a.out), **report)))


if __name__ == "__main__":
    main()
