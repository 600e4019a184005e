#!/usr/bin/env python3
"""Proof data for `vmae predict --model HF_FOLDER`: a Hugging Face VideoMAEForVideoClassification
made by transformers itself, a short video made by vmae, and transformers' own logits on the
frames vmae sampled from it.

Writes, under --out (default Tests/Fixtures/hf):

  predict_k400/            save_pretrained folder: config.json (random weights of a small model:
                           hidden 32, 2 layers, 16 frames of 32 px, patch 8, tubelet 2, mean
                           pooling; id2label the 400 Kinetics-400 names of kinetics400_labels.txt),
                           model.safetensors, preprocessor_config.json (transformers' PIL
                           VideoMAE processor with shortest_edge 36, crop 32x32, ImageNet mean/std)
  predict_k400.mp4         48x48, 40 frames: `vmae data synth --size 48 --frames 40` (one clip)
  predict_k400.expected.safetensors
                           for W in 1, 2 (`--windows W`): indices_wW [W,16] (float32), the frame
                           indices vmae sampled; pixel_values_wW [W,16,3,32,32], transformers'
                           preprocessing of those frames; logits_wW [W,400], the model's logits

The frames are the ones vmae decoded (`vmae predict --model … --save-frames DIR` writes each
sampled frame as a PNG, before any resizing): this script does not decode the video itself, so
the comparison is of the preprocessing and the model, not of two video decoders. The script
checks that vmae's frame indices are the uniform ones (start + k*(len-1)//15 per window).
Preprocessing is transformers' PIL image processor (VideoMAEImageProcessorPil in transformers 5,
the VideoMAEImageProcessor of transformers 4): Pillow bilinear resize of the shortest edge,
centre crop, rescale 1/255, normalize.

usage: make_predict_fixture.py [--vmae .build/release/vmae] [--out Tests/Fixtures/hf]
       (the peer venv: torch, transformers 5.23, numpy, safetensors, plus pillow; 1 thread, seed 0)
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
import torch
from PIL import Image
from safetensors.numpy import save_file
from transformers import VideoMAEConfig, VideoMAEForVideoClassification
from transformers.models.videomae.image_processing_pil_videomae import VideoMAEImageProcessorPil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmae", default=os.path.join(ROOT, ".build/release/vmae"))
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests/Fixtures/hf"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    labels = [l.strip() for l in open(os.path.join(HERE, "kinetics400_labels.txt")) if l.strip()]
    assert len(labels) == 400, len(labels)
    cfg = VideoMAEConfig(image_size=32, patch_size=8, num_channels=3, num_frames=16, tubelet_size=2,
                         hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                         use_mean_pooling=True, qkv_bias=True, num_labels=400,
                         id2label={i: n for i, n in enumerate(labels)}, label2id={n: i for i, n in enumerate(labels)})
    cfg.architectures = ["VideoMAEForVideoClassification"]
    model = VideoMAEForVideoClassification(cfg).eval()
    with torch.no_grad():   # move every parameter off its init (LayerNorm weights are ones)
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    folder = os.path.join(a.out, "predict_k400")
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder, safe_serialization=True)
    proc = VideoMAEImageProcessorPil(size={"shortest_edge": 36}, crop_size={"height": 32, "width": 32})
    proc.save_pretrained(folder)

    tmp = tempfile.mkdtemp()
    try:
        subprocess.check_call([a.vmae, "data", "synth", "--out", tmp + "/synth", "--classes", "1", "--clips-per-class", "1",
                               "--val-per-class", "0", "--size", "48", "--frames", "40", "--seed", "3"])
        video = os.path.join(a.out, "predict_k400.mp4")
        shutil.copy(sorted(glob.glob(tmp + "/synth/**/*.mp4", recursive=True))[0], video)
        out = {}
        for w in (1, 2):
            fdir = "%s/frames%d" % (tmp, w)
            subprocess.check_call([a.vmae, "predict", "--model", folder, video, "--windows", str(w), "--save-frames", fdir],
                                  stdout=subprocess.DEVNULL)
            names = sorted(os.listdir(fdir))   # w{window}-f{index}.png
            per = {}
            for n in names:
                win, idx = n[:-4].split("-")
                per.setdefault(int(win[1:]), []).append((int(idx[1:]), np.array(Image.open(os.path.join(fdir, n)).convert("RGB"))))
            assert sorted(per) == list(range(w)), names
            n_frames = 40
            indices, pixels = [], []
            for i in range(w):
                got = sorted(per[i])
                lo, hi = i * n_frames // w, (i + 1) * n_frames // w
                want = [lo + k * (hi - lo - 1) // 15 for k in range(16)]
                assert [g[0] for g in got] == want, (i, [g[0] for g in got], want)
                indices.append(want)
                pv = proc([[f for _, f in got]], return_tensors="np")["pixel_values"]   # [1,16,3,32,32]
                pixels.append(pv[0])
            pixel_values = np.stack(pixels).astype(np.float32)
            with torch.no_grad():
                logits = model(pixel_values=torch.from_numpy(pixel_values)).logits.numpy()
            out["indices_w%d" % w] = np.array(indices, dtype=np.float32)
            out["pixel_values_w%d" % w] = pixel_values
            out["logits_w%d" % w] = logits.astype(np.float32)
            p = torch.softmax(torch.from_numpy(logits), -1).mean(0)
            top = torch.topk(p, 3)
            print("windows %d: top-3 %s" % (w, [(labels[j], round(float(v), 5)) for v, j in zip(top.values, top.indices)]))
        save_file(out, os.path.join(a.out, "predict_k400.expected.safetensors"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print("wrote %s (%d bytes), %s, predict_k400.expected.safetensors" % (folder, size, video))


if __name__ == "__main__":
    main()
