#!/usr/bin/env python3
"""How a pretraining step's time grows with frames and batch: `vmae bench step` (tube mask 90%,
forward, backward, AdamW; 2 warm-up steps, then the median of --steps timed ones) for every
frames x batch pair of one preset and size, printed as a markdown table and drawn as a small
SVG (one line per batch, step time against frames), e.g. docs/step-growth.svg.

usage: Tools/bench/step_growth.py [--preset vit-small] [--size 224] [--frames 8,16,32]
         [--batches 1,2,4] [--steps 3] [--threads 2] [--svg docs/step-growth.svg]
The CPU model, the load average before and after and the CPU share stolen by the hypervisor
(Tools/bench/machine.py) go into the table's caption and the picture: a figure from a loaded
machine is not a speed claim.
"""
import argparse, json, os, subprocess
from machine import Meter

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
p = argparse.ArgumentParser()
p.add_argument("--preset", default="vit-small")
p.add_argument("--size", type=int, default=224)
p.add_argument("--frames", default="8,16,32")
p.add_argument("--batches", default="1,2,4")
p.add_argument("--steps", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--vmae", default=os.path.join(root, ".build/release/vmae"))
p.add_argument("--svg", default=os.path.join(root, "docs/step-growth.svg"))
a = p.parse_args()
frames = [int(f) for f in a.frames.split(",")]
batches = [int(b) for b in a.batches.split(",")]

meter = Meter()
step = {}  # (frames, batch) -> median step seconds
for f in frames:
    for b in batches:
        cmd = [a.vmae, "bench", "step", "--preset", a.preset, "--frames", str(f), "--size", str(a.size),
               "--batch", str(b), "--steps", str(a.steps), "--threads", str(a.threads)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        step[(f, b)] = r["step_s_median"]
        print(f"{a.preset} {f}x{a.size} batch {b}: {r['step_s_median']:.3f} s/step, "
              f"{r['gflop_per_s']:.0f} GFLOP/s, peak RSS {r['maxrss_mb']:.0f} MB", flush=True)
m = meter.summary()
caption = (f"{a.preset} {a.size}², {a.threads} threads, {m['cpu']}, load average {m['load_before']:.2f} → "
           f"{m['load_after']:.2f}, {m['steal_pct']}% of the CPU stolen by the hypervisor")

print(f"\n{caption}\n")
print("| frames | " + " | ".join(f"batch {b}" for b in batches) + " |")
print("|---|" + "---|" * len(batches))
for f in frames:
    print(f"| {f} | " + " | ".join(f"{step[(f, b)]:.3f} s" for b in batches) + " |")

# The picture: step time (s) against frames, one polyline per batch.
W, H, L, R, T, B = 520, 330, 60, 110, 40, 50
top = max(step.values()) * 1.1
fx = lambda f: L + (W - L - R) * (frames.index(f) / max(1, len(frames) - 1))
fy = lambda s: H - B - (H - T - B) * s / top
colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="18" font-size="13">vmae pretraining step time against frames (tube mask 90%)</text>',
       f'<text x="{L}" y="33" font-size="10" fill="#555">{caption}</text>',
       f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/>',
       f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>',
       f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">frames per clip</text>',
       f'<text x="16" y="{(T + H - B) / 2}" transform="rotate(-90 16 {(T + H - B) / 2})" text-anchor="middle">seconds per step</text>']
for f in frames:
    svg.append(f'<text x="{fx(f):.1f}" y="{H - B + 16}" text-anchor="middle">{f}</text>')
for i in range(5):
    s = top * i / 4
    svg.append(f'<line x1="{L - 4}" y1="{fy(s):.1f}" x2="{W - R}" y2="{fy(s):.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{L - 6}" y="{fy(s) + 4:.1f}" text-anchor="end">{s:.1f}</text>')
for i, b in enumerate(batches):
    c = colours[i % len(colours)]
    pts = " ".join(f"{fx(f):.1f},{fy(step[(f, b)]):.1f}" for f in frames)
    svg.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="2"/>')
    for f in frames:
        svg.append(f'<circle cx="{fx(f):.1f}" cy="{fy(step[(f, b)]):.1f}" r="3" fill="{c}"/>')
    svg.append(f'<text x="{W - R + 10}" y="{fy(step[(frames[-1], b)]) + 4:.1f}" fill="{c}">batch {b}</text>')
svg.append("</svg>")
os.makedirs(os.path.dirname(a.svg), exist_ok=True)
open(a.svg, "w").write("\n".join(svg) + "\n")
print(f"\nwrote {a.svg}")
