#!/usr/bin/env python3
"""Make vmae's divided space-time attention fixtures (HDF5) from a plain PyTorch reference.

The reference is the seed's DividedSpaceTimeBlock (TimeSformer's `divided_space_time`
Block without its CLS token), written here in plain torch from its description, on
time-major tokens [B, G*S, D] (token n = g*S + s: G temporal groups of S spatial positions):

    x = x + temporal_fc(temporal_attn(temporal_norm1(x)))   attention over the G tokens of
                                                              each spatial position
    x = x + attn(norm1(x))                                   attention over the S tokens of
                                                              each temporal group
    x = x + mlp(norm2(x))

Every attention is nn.MultiheadAttention-equivalent math with the design's layout: one fused
qkv weight [3D, D] (rows q, k, v), biases q_bias and v_bias (the key has none), scale
head_dim^-0.5, heads merged back in order, then proj. LayerNorm eps from the config, exact
(erf) GELU. The regrouping is done by index gathers (not by the reshape/transpose vmae uses),
so the two routes are independent.

Kinds (the same attrs style as make_fixture.py's fixtures):
  divided_block  one block on random weights and input; loss = sum(out * R) with a fixed
                 random R; /expected/out, /expected/loss, /expected/grads/<param>,
                 /expected/grads_input/x (d loss / d x).
  classify       the whole classifier (patch embed, sinusoid PE, divided encoder blocks, mean,
                 fc_norm, head, cross-entropy with label smoothing) with config
                 "attention": "divided": a standard design fixture, `vmae parity` reads it.
  pretrain       the whole pretraining model with a divided encoder on the visible tokens of a
                 tube mask (the same S_vis positions in every group) and the joint decoder.

The whole-model reference is checked first against make_fixture.py's Hugging Face fixtures in
joint mode (--self-check, on by default): same loss and gradients from the same parameters.

usage: make_divided_fixture.py --kind divided_block|classify|pretrain --out F.h5 [options]
"""
import argparse
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

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# ---------------------------------------------------------------- the reference, plain torch

def layer_norm(x, p, name, eps):
    return F.layer_norm(x, (x.shape[-1],), p[name + ".weight"], p[name + ".bias"], eps)


def attention(x, p, name, heads, qkv_bias):
    """Multi-head self-attention over the middle axis of x [B', L, D]."""
    Bp, L, D = x.shape
    hd = D // heads
    bias = None
    if qkv_bias:
        bias = torch.cat([p[name + ".q_bias"], torch.zeros_like(p[name + ".q_bias"]), p[name + ".v_bias"]])
    qkv = F.linear(x, p[name + ".qkv.weight"], bias)                       # [B', L, 3D]
    q, k, v = qkv.reshape(Bp, L, 3, heads, hd).permute(2, 0, 3, 1, 4)      # each [B', H, L, hd]
    a = torch.softmax((q * hd ** -0.5) @ k.transpose(-2, -1), dim=-1)      # [B', H, L, L]
    o = (a @ v).transpose(1, 2).reshape(Bp, L, D)                          # heads merged in order
    return F.linear(o, p[name + ".proj.weight"], p[name + ".proj.bias"])


def mlp(x, p, name):
    h = F.gelu(F.linear(x, p[name + ".fc1.weight"], p[name + ".fc1.bias"]), approximate="none")
    return F.linear(h, p[name + ".fc2.weight"], p[name + ".fc2.bias"])


def joint_block(x, p, pre, heads, eps, qkv_bias):
    x = x + attention(layer_norm(x, p, pre + "norm1", eps), p, pre + "attn", heads, qkv_bias)
    return x + mlp(layer_norm(x, p, pre + "norm2", eps), p, pre + "mlp")


def divided_block(x, p, pre, groups, heads, eps, qkv_bias):
    """The seed's DividedSpaceTimeBlock on time-major tokens x [B, G*S, D]."""
    B, N, D = x.shape
    G = groups
    S = N // G
    assert G * S == N
    # temporal: sequence (b, s) holds tokens g*S + s, g = 0..G-1
    t_idx = torch.arange(G)[None, :] * S + torch.arange(S)[:, None]        # [S, G]
    xt = x[:, t_idx.reshape(-1)].reshape(B * S, G, D)
    t = attention(layer_norm(xt, p, pre + "temporal_norm1", eps), p, pre + "temporal_attn", heads, qkv_bias)
    t = F.linear(t, p[pre + "temporal_fc.weight"], p[pre + "temporal_fc.bias"])
    inv = torch.argsort(t_idx.reshape(-1))                                 # back to time-major
    x = x + t.reshape(B, S * G, D)[:, inv]
    # spatial: sequence (b, g) holds tokens g*S + s, s = 0..S-1
    s_idx = torch.arange(G)[:, None] * S + torch.arange(S)[None, :]        # [G, S]
    xs = x[:, s_idx.reshape(-1)].reshape(B * G, S, D)
    sp = attention(layer_norm(xs, p, pre + "norm1", eps), p, pre + "attn", heads, qkv_bias)
    x = x + sp.reshape(B, G * S, D)[:, torch.argsort(s_idx.reshape(-1))]
    return x + mlp(layer_norm(x, p, pre + "norm2", eps), p, pre + "mlp")


def sinusoid_table(n, d):
    """DESIGN.md: PE[n, j] = sin(n / 10000^(2*floor(j/2)/d)) even j, cos odd j; float64, then float32."""
    pos = np.arange(n, dtype=np.float64)[:, None]
    j = np.arange(d)[None, :]
    ang = pos / np.power(10000.0, 2 * (j // 2) / d)
    return torch.from_numpy(np.where(j % 2 == 0, np.sin(ang), np.cos(ang)).astype(np.float32))


def patch_embed(pixels, p, name, cfg):
    """Conv3d with stride = kernel over [B, C, T, H, W]; tokens time-major, row, column."""
    t, ps = cfg["tubelet_size"], cfg["patch_size"]
    y = F.conv3d(pixels.permute(0, 2, 1, 3, 4), p[name + ".weight"], p[name + ".bias"], stride=(t, ps, ps))
    return y.flatten(2).transpose(1, 2)                                    # [B, N, D]


def encoder_blocks(x, p, pre, cfg):
    G = cfg["num_frames"] // cfg["tubelet_size"]
    eps, H, qb = cfg["layer_norm_eps"], cfg["encoder_num_heads"], cfg["qkv_bias"]
    for i in range(cfg["encoder_depth"]):
        if cfg.get("attention", "joint") == "divided":
            x = divided_block(x, p, f"{pre}blocks.{i}.", G, H, eps, qb)
        else:
            x = joint_block(x, p, f"{pre}blocks.{i}.", H, eps, qb)
    return x


def pretrain_target(pixel_values, cfg):
    """DESIGN.md 'Loss (pretraining)' steps 1-4: [B, N, t*p*p*C] in the decoder head's order."""
    B, T, C, H, W = pixel_values.shape
    t, p = cfg["tubelet_size"], cfg["patch_size"]
    mean = torch.tensor(IMAGENET_MEAN, dtype=pixel_values.dtype)[None, None, :, None, None]
    std = torch.tensor(IMAGENET_STD, dtype=pixel_values.dtype)[None, None, :, None, None]
    x = pixel_values * std + mean
    x = x.reshape(B, T // t, t, C, H // p, p, W // p, p).permute(0, 1, 4, 6, 2, 5, 7, 3)
    x = x.reshape(B, -1, t * p * p, C)
    if cfg["normalize_target"]:
        x = (x - x.mean(2, keepdim=True)) / (x.var(2, unbiased=True, keepdim=True).sqrt() + 1e-6)
    return x.reshape(B, x.shape[1], t * p * p * C)


def classify_loss(p, cfg, pixels, labels, smoothing):
    x = patch_embed(pixels, p, "patch_embed.proj", cfg)
    x = x + sinusoid_table(x.shape[1], x.shape[2]).to(x.dtype)
    x = encoder_blocks(x, p, "", cfg)
    z = layer_norm(x.mean(1), p, "fc_norm", cfg["layer_norm_eps"])
    logits = F.linear(z, p["head.weight"], p["head.bias"])
    return F.cross_entropy(logits, labels, label_smoothing=smoothing), logits


def pretrain_loss(p, cfg, pixels, mask):
    eps = cfg["layer_norm_eps"]
    B = pixels.shape[0]
    m = torch.from_numpy(mask).bool()
    x = patch_embed(pixels, p, "encoder.patch_embed.proj", cfg)
    N, D = x.shape[1], x.shape[2]
    x = x + sinusoid_table(N, D).to(x.dtype)
    x = x[~m].reshape(B, -1, D)                                            # visible, ascending
    x = encoder_blocks(x, p, "encoder.", cfg)
    x = layer_norm(x, p, "encoder.norm", eps)
    x = F.linear(x, p["encoder_to_decoder.weight"])
    Dd = x.shape[2]
    pe = sinusoid_table(N, Dd).to(x.dtype).expand(B, N, Dd)
    vis = x + pe[~m].reshape(B, -1, Dd)
    msk = p["mask_token"] + pe[m].reshape(B, -1, Dd)
    h = torch.cat([vis, msk], 1)
    for i in range(cfg["decoder_depth"]):
        h = joint_block(h, p, f"decoder.blocks.{i}.", cfg["decoder_num_heads"], eps, cfg["qkv_bias"])
    nm = msk.shape[1]
    h = layer_norm(h[:, -nm:], p, "decoder.norm", eps)
    pred = F.linear(h, p["decoder.head.weight"], p["decoder.head.bias"])
    tgt = pretrain_target(pixels, cfg)[m].reshape(B, nm, -1)
    return ((pred - tgt) ** 2).mean(), pred


# ---------------------------------------------------------------- parameters

def block_param_shapes(pre, D, H_mlp, qkv_bias, divided):
    s = {}
    def attn(name):
        s[name + ".qkv.weight"] = (3 * D, D)
        if qkv_bias:
            s[name + ".q_bias"] = (D,)
            s[name + ".v_bias"] = (D,)
        s[name + ".proj.weight"] = (D, D)
        s[name + ".proj.bias"] = (D,)
    if divided:
        s[pre + "temporal_norm1.weight"] = (D,)
        s[pre + "temporal_norm1.bias"] = (D,)
        attn(pre + "temporal_attn")
        s[pre + "temporal_fc.weight"] = (D, D)
        s[pre + "temporal_fc.bias"] = (D,)
    s[pre + "norm1.weight"] = (D,)
    s[pre + "norm1.bias"] = (D,)
    attn(pre + "attn")
    s[pre + "norm2.weight"] = (D,)
    s[pre + "norm2.bias"] = (D,)
    s[pre + "mlp.fc1.weight"] = (H_mlp, D)
    s[pre + "mlp.fc1.bias"] = (H_mlp,)
    s[pre + "mlp.fc2.weight"] = (D, H_mlp)
    s[pre + "mlp.fc2.bias"] = (D,)
    return s


def model_param_shapes(kind, cfg):
    D, Dd, C = cfg["encoder_embed_dim"], cfg["decoder_embed_dim"], cfg["in_chans"]
    t, ps = cfg["tubelet_size"], cfg["patch_size"]
    div = cfg.get("attention", "joint") == "divided"
    enc = "encoder." if kind == "pretrain" else ""
    s = {enc + "patch_embed.proj.weight": (D, C, t, ps, ps), enc + "patch_embed.proj.bias": (D,)}
    for i in range(cfg["encoder_depth"]):
        s.update(block_param_shapes(f"{enc}blocks.{i}.", D, int(D * cfg["mlp_ratio"]), cfg["qkv_bias"], div))
    if kind == "classify":
        s.update({"fc_norm.weight": (D,), "fc_norm.bias": (D,),
                  "head.weight": (cfg["num_classes"], D), "head.bias": (cfg["num_classes"],)})
    else:
        s.update({"encoder.norm.weight": (D,), "encoder.norm.bias": (D,), "encoder_to_decoder.weight": (Dd, D),
                  "mask_token": (1, 1, Dd)})
        for i in range(cfg["decoder_depth"]):
            s.update(block_param_shapes(f"decoder.blocks.{i}.", Dd, int(Dd * cfg["mlp_ratio"]), cfg["qkv_bias"], False))
        s.update({"decoder.norm.weight": (Dd,), "decoder.norm.bias": (Dd,),
                  "decoder.head.weight": (C * t * ps * ps, Dd), "decoder.head.bias": (C * t * ps * ps,)})
    return s


def random_params(shapes, gen):
    """make_fixture.py's scheme: weights N(0, 1/fan_in), LayerNorm weights 1 + N(0, 0.1^2), every
    bias (q_bias/v_bias too) N(0, 0.1^2), mask_token N(0, 0.5^2). Drawn in sorted name order."""
    out = {}
    for name in sorted(shapes):
        shp = shapes[name]
        if name == "mask_token":
            v = 0.5 * torch.randn(shp, generator=gen)
        elif len(shp) == 1 and name.endswith(".weight"):
            v = 1.0 + 0.1 * torch.randn(shp, generator=gen)
        elif len(shp) == 1:
            v = 0.1 * torch.randn(shp, generator=gen)
        else:
            v = torch.randn(shp, generator=gen) / math.sqrt(float(np.prod(shp[1:])))
        out[name] = v.to(torch.float32)
    return out


def leaves(params, dtype):
    return {k: v.detach().to(dtype).clone().requires_grad_(True) for k, v in params.items()}


# ---------------------------------------------------------------- self-check against HF fixtures

def self_check(paths):
    """The whole-model reference in joint mode reproduces make_fixture.py's HF fixtures."""
    worst = 0.0
    for path in paths:
        with h5py.File(path, "r") as f:
            kind = f.attrs["kind"]
            cfg = json.loads(f.attrs["config"])
            p = {k: torch.from_numpy(f["params/" + k][...]).requires_grad_(True) for k in _walk(f["params"])}
            x = torch.from_numpy(f["inputs/pixel_values"][...])
            cfg["num_frames"], cfg["img_size"] = x.shape[1], x.shape[3]
            if kind == "pretrain":
                loss, _ = pretrain_loss(p, cfg, x, f["inputs/mask"][...])
            else:
                loss, _ = classify_loss(p, cfg, x, torch.from_numpy(f["inputs/labels"][...]),
                                        float(f["expected/logits"].attrs["label_smoothing"]))
            loss.backward()
            e = float(f["expected/loss"][()])
            rel = abs(loss.item() - e) / abs(e)
            gw = max(float(np.abs(p[k].grad.numpy() - f["expected/grads/" + k][...]).max()
                           / max(np.abs(f["expected/grads/" + k][...]).max(), 1e-30)) for k in p)
            assert set(_walk(f["expected/grads"])) == set(p), path
        assert rel < 1e-5 and gw < 1e-4, f"{path}: reference loss rel {rel:.2e}, grads {gw:.2e}"
        worst = max(worst, rel, gw)
    return worst


def _walk(group):
    names = []
    group.visit(lambda n: names.append(n) if isinstance(group[n], h5py.Dataset) else None)
    return names


# ---------------------------------------------------------------- main

def adamw_groups(params, wd):
    decay = [v for k, v in sorted(params.items()) if v.dim() >= 2 and k != "mask_token"]
    rest = [v for k, v in sorted(params.items()) if not (v.dim() >= 2 and k != "mask_token")]
    return [{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}]


def make_mask(ratio, B, tg, ns, rng):
    rows = []
    for _ in range(B):
        k = int(ratio * ns)
        m = np.zeros(ns, dtype=np.uint8)
        m[rng.permutation(ns)[:k]] = 1
        rows.append(np.tile(m, tg))  # tube: the same spatial positions in every temporal group
    return np.stack(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    B_ = argparse.BooleanOptionalAction
    ap.add_argument("--kind", choices=["divided_block", "classify", "pretrain"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    # divided_block
    ap.add_argument("--groups", type=int, default=4, help="G (divided_block)")
    ap.add_argument("--spatial", type=int, default=6, help="S (divided_block)")
    # whole models
    ap.add_argument("--img-size", type=int, default=32)
    ap.add_argument("--num-frames", type=int, default=8)
    ap.add_argument("--patch-size", type=int, default=8)
    ap.add_argument("--tubelet-size", type=int, default=2)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--decoder-embed-dim", type=int, default=16)
    ap.add_argument("--decoder-depth", type=int, default=1)
    ap.add_argument("--decoder-heads", type=int, default=2)
    ap.add_argument("--num-classes", type=int, default=5)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--mask-ratio", type=float, default=0.75)
    ap.add_argument("--normalize-target", action=B_, default=True)
    # both
    ap.add_argument("--embed-dim", type=int, default=16)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--mlp-ratio", type=float, default=4.0)
    ap.add_argument("--qkv-bias", action=B_, default=True)
    ap.add_argument("--layer-norm-eps", type=float, default=1e-6)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--adam-eps", type=float, default=1e-8)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--self-check", nargs="*", default=None,
                    help="HF fixtures to reproduce with the reference in joint mode first "
                         "(default: Tests/Fixtures/pretrain_tube.h5, pretrain_t4p8.h5, classify_smooth.h5)")
    a = ap.parse_args()

    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures")
    checks = a.self_check if a.self_check is not None else [
        os.path.join(root, n) for n in ("pretrain_tube.h5", "pretrain_t4p8.h5", "classify_smooth.h5")]
    report = {}
    if checks:
        report["self_check_worst"] = self_check(checks)

    gen = torch.Generator().manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    B = a.batch

    if a.kind == "divided_block":
        D, G, S = a.embed_dim, a.groups, a.spatial
        assert D % a.heads == 0
        cfg = {"dim": D, "heads": a.heads, "mlp_ratio": float(a.mlp_ratio), "qkv_bias": bool(a.qkv_bias),
               "layer_norm_eps": float(a.layer_norm_eps), "groups": G, "spatial": S, "batch": B}
        params = random_params(block_param_shapes("", D, int(D * a.mlp_ratio), a.qkv_bias, True), gen)
        x = torch.randn(B, G * S, D, generator=gen)
        R = torch.empty(B, G * S, D).uniform_(-1, 1, generator=gen)

        def run(dtype):
            p = leaves(params, dtype)
            xv = x.to(dtype).clone().requires_grad_(True)
            out = divided_block(xv, p, "", G, a.heads, a.layer_norm_eps, a.qkv_bias)
            loss = (out * R.to(dtype)).sum()
            loss.backward()
            return out.detach(), loss.detach(), {k: v.grad for k, v in p.items()}, xv.grad
        out, loss, grads, dx = run(torch.float32)
        out64, loss64, g64, dx64 = run(torch.float64)
        report["f64_out_worst"] = float((out.double() - out64).abs().max() / out64.abs().max())
        report["f64_grad_worst"] = float(max((grads[k].double() - g64[k]).abs().max() / g64[k].abs().max() for k in grads))
        report["f64_dx_worst"] = float((dx.double() - dx64).abs().max() / dx64.abs().max())
        # the test compares against the float64 run, rounded: the closer reference of the two
        write_block(a.out, cfg, x, R, params, out64, loss64, g64, dx64)
        print(json.dumps(dict(out=a.out, kind=a.kind, bytes=os.path.getsize(a.out), **report)))
        return

    cfg = {
        "img_size": a.img_size, "num_frames": a.num_frames, "patch_size": a.patch_size,
        "tubelet_size": a.tubelet_size, "in_chans": 3,
        "encoder_embed_dim": a.embed_dim, "encoder_depth": a.depth, "encoder_num_heads": a.heads,
        "decoder_embed_dim": a.decoder_embed_dim, "decoder_depth": a.decoder_depth,
        "decoder_num_heads": a.decoder_heads, "mlp_ratio": float(a.mlp_ratio),
        "qkv_bias": bool(a.qkv_bias), "layer_norm_eps": float(a.layer_norm_eps),
        "num_classes": a.num_classes, "use_mean_pooling": a.kind == "classify",
        "normalize_target": bool(a.normalize_target),
        "attention": "divided",
    }
    assert a.img_size % a.patch_size == 0 and a.num_frames % a.tubelet_size == 0
    tg, ns = a.num_frames // a.tubelet_size, (a.img_size // a.patch_size) ** 2
    params = random_params(model_param_shapes(a.kind, cfg), gen)
    x = torch.randn(B, a.num_frames, 3, a.img_size, a.img_size, generator=gen, dtype=torch.float32)
    mask = labels = None
    smoothing = a.label_smoothing if a.kind == "classify" else 0.0
    if a.kind == "pretrain":
        mask = make_mask(a.mask_ratio, B, tg, ns, rng)
    else:
        labels = torch.from_numpy(rng.integers(0, a.num_classes, size=B).astype(np.int64))

    def loss_of(p, xx):
        if a.kind == "pretrain":
            return pretrain_loss(p, cfg, xx, mask)
        return classify_loss(p, cfg, xx, labels, smoothing)

    def run(dtype):
        p = leaves(params, dtype)
        xx = x.to(dtype)
        loss, logits = loss_of(p, xx)
        loss.backward()
        grads = {k: v.grad.detach().clone() for k, v in p.items()}
        opt = torch.optim.AdamW(adamw_groups(p, a.weight_decay), lr=a.lr, betas=(a.beta1, a.beta2),
                                eps=a.adam_eps, foreach=False)
        losses = [loss.item()]
        for s in range(a.steps):
            opt.step()
            opt.zero_grad(set_to_none=True)
            ls, _ = loss_of(p, xx)
            losses.append(ls.item())
            if s + 1 < a.steps:
                ls.backward()
        return loss.detach(), logits.detach(), grads, losses
    loss, logits, grads, losses = run(torch.float32)
    loss64, logits64, g64, losses64 = run(torch.float64)
    report["f64_loss_rel"] = abs(loss.item() - loss64.item()) / abs(loss64.item())
    report["f64_grad_worst"] = float(max((grads[k].double() - g64[k]).abs().max() / g64[k].abs().max() for k in grads))
    report["f64_adamw_rel"] = max(abs(u - v) / abs(v) for u, v in zip(losses, losses64))

    tmp = a.out + ".tmp"
    with h5py.File(tmp, "w", track_order=False) as f:
        f.attrs["format"] = "vmae-parity-fixture"
        f.attrs["format_version"] = np.int64(1)
        f.attrs["kind"] = a.kind
        f.attrs["config"] = json.dumps(cfg)
        f.create_dataset("inputs/pixel_values", data=x.numpy().astype(np.float32))
        if a.kind == "pretrain":
            f.create_dataset("inputs/mask", data=mask.astype(np.uint8))
        else:
            f.create_dataset("inputs/labels", data=labels.numpy().astype(np.int64))
        for k in sorted(params):
            f.create_dataset("params/" + k, data=params[k].numpy().astype(np.float32))
        f.create_dataset("expected/loss", data=np.float32(loss.item()))
        if a.kind == "classify":
            d = f.create_dataset("expected/logits", data=logits.numpy().astype(np.float32))
            d.attrs["label_smoothing"] = np.float64(smoothing)
            f["expected"].attrs["label_smoothing"] = np.float64(smoothing)
        for k in sorted(grads):
            f.create_dataset("expected/grads/" + k, data=grads[k].numpy().astype(np.float32))
        d = f.create_dataset("expected/adamw/losses", data=np.array(losses, dtype=np.float32))
        for k, v in (("lr", a.lr), ("beta1", a.beta1), ("beta2", a.beta2), ("eps", a.adam_eps),
                     ("weight_decay", a.weight_decay)):
            d.attrs[k] = np.float64(v)
    os.replace(tmp, a.out)
    print(json.dumps(dict(out=a.out, kind=a.kind, N=tg * ns, groups=tg, spatial=ns,
                          visible_per_group=None if mask is None else int(ns - mask[0][:ns].sum()),
                          params=int(sum(v.numel() for v in params.values())), bytes=os.path.getsize(a.out),
                          loss=loss.item(), losses=losses, **report)))


def write_block(path, cfg, x, R, params, out, loss, grads, dx):
    tmp = path + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with h5py.File(tmp, "w", track_order=False) as f:
        f.attrs["format"] = "vmae-parity-fixture"
        f.attrs["format_version"] = np.int64(1)
        f.attrs["kind"] = "divided_block"
        f.attrs["config"] = json.dumps(cfg)
        f.create_dataset("inputs/x", data=x.numpy().astype(np.float32))
        f.create_dataset("inputs/r", data=R.numpy().astype(np.float32))
        for k in sorted(params):
            f.create_dataset("params/" + k, data=params[k].numpy().astype(np.float32))
        f.create_dataset("expected/out", data=out.numpy().astype(np.float32))
        f.create_dataset("expected/loss", data=np.float32(loss.item()))
        for k in sorted(grads):
            f.create_dataset("expected/grads/" + k, data=grads[k].numpy().astype(np.float32))
        f.create_dataset("expected/grads_input/x", data=dx.numpy().astype(np.float32))
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
