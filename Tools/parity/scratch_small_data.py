"""Cross-check of the seed's case in PyTorch: the seed-case classifier (HF VideoMAEForVideoClassification,
encoder 96 wide, 4 blocks, 3 heads, 8 frames of 64², patch 16, tubelet 2, mean pooling) trained from
scratch on the same labeled clips, without augmentation: AdamW lr 1e-3 (betas 0.9/0.999, weight
decay 0.05 on matrices), 30 warmup steps, cosine to 1e-6 at step 600, batch 16, label smoothing 0.1.
Frames 0, 4, ..., 28 of each 32-frame clip (what vmae's centre clip takes), ImageNet mean/std.

usage: bash ../shared/peer/setup.sh && /tmp/vmae-peer-venv/bin/pip install av
       /tmp/vmae-peer-venv/bin/python Tools/parity/scratch_small_data.py data/synthetic/seed-case-labeled
The vmae run to compare with (same settings):
       vmae-train --config configs/seed-case-finetune-scratch.json --set data.min_crop_area=1.0 \
           --set optim.layer_decay=1.0 --set model.drop_path_rate=0
"""
import sys, math, numpy as np, torch, av
from transformers import VideoMAEConfig, VideoMAEForVideoClassification
torch.manual_seed(0); np.random.seed(0); torch.set_num_threads(2)
root = sys.argv[1]
mean = np.array([0.485, 0.456, 0.406], np.float32); std = np.array([0.229, 0.224, 0.225], np.float32)
def load(lst):
    X, Y = [], []
    for line in open(f'{root}/{lst}'):
        p, y = line.split()
        c = av.open(f'{root}/{p}'); fr = [f.to_ndarray(format='rgb24') for f in c.decode(video=0)]; c.close()
        a = np.stack([fr[i] for i in range(0, 32, 4)]).astype(np.float32) / 255  # T H W C
        a = (a - mean) / std
        X.append(a.transpose(0, 3, 1, 2)); Y.append(int(y))
    return torch.tensor(np.stack(X)), torch.tensor(Y)
Xtr, Ytr = load('train.csv'); Xva, Yva = load('val.csv')
print('train', tuple(Xtr.shape), 'val', tuple(Xva.shape), flush=True)
cfg = VideoMAEConfig(image_size=64, patch_size=16, num_channels=3, num_frames=8, tubelet_size=2, hidden_size=96,
                     num_hidden_layers=4, num_attention_heads=3, intermediate_size=384, use_mean_pooling=True,
                     num_labels=8, qkv_bias=True)
m = VideoMAEForVideoClassification(cfg)
decay = [p for n, p in m.named_parameters() if p.ndim > 1]; no = [p for n, p in m.named_parameters() if p.ndim <= 1]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.05}, {'params': no, 'weight_decay': 0}], lr=1e-3, betas=(0.9, 0.999))
total, warm = 600, 30
lossf = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
g = torch.Generator().manual_seed(0)
step = 0
def evaluate(X, Y):
    m.eval()
    with torch.no_grad(): acc = (m(pixel_values=X).logits.argmax(1) == Y).float().mean().item() * 100
    m.train(); return acc
best = 0
while step < total:
    perm = torch.randperm(len(Xtr), generator=g)
    for i in range(0, len(perm) - 15, 16):
        lr = 1e-3 * step / warm if step < warm else 1e-6 + (1e-3 - 1e-6) * 0.5 * (1 + math.cos(math.pi * (step - warm) / (total - warm)))
        for pg in opt.param_groups: pg['lr'] = lr
        idx = perm[i:i + 16]
        loss = lossf(m(pixel_values=Xtr[idx]).logits, Ytr[idx])
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
        if step >= total: break
    va = evaluate(Xva, Yva); best = max(best, va)
    if step % 100 == 0 or step >= total: print(f'step {step} loss {loss.item():.3f} val_top1 {va:.1f}', flush=True)
print(f'final: train_top1 {evaluate(Xtr, Ytr):.1f} val_top1 {evaluate(Xva, Yva):.1f} best {best:.1f}')
