#!/usr/bin/env python3
"""vmae against the PyTorch peer (../shared/peer/torch_step.py), the design's way: the same
preset, frames, size, batch and threads, run alternately (A B A B …) so drift on a shared
machine hits both, compared as the ratio of median step times. Prints one JSON line per
setting with both systems' figures, the ratio of each pair, the CPU, the load average before and
after and the share of CPU time the hypervisor stole meanwhile (Tools/bench/machine.py).

usage: Tools/bench/compare_peer.py [--rounds 3] [--steps 5] [--threads 2]
         [--peer /tmp/vmae-peer-venv/bin/python] [--peer-script ../shared/peer/torch_step.py]
         [--settings vit-tiny:16:112:8,vit-small:16:224:2,vit-base:16:224:1] [--precision bf16]
With --precision bf16: `vmae bench --precision bf16` against the peer's step under
torch.autocast("cpu", dtype=torch.bfloat16) (Tools/bench/torch_step_autocast.py).
"""
import argparse, json, os, statistics, subprocess, sys
from machine import Meter

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
p = argparse.ArgumentParser()
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--vmae", default=os.path.join(root, ".build/release/vmae"))
p.add_argument("--peer", default="/tmp/vmae-peer-venv/bin/python")
p.add_argument("--peer-script", default=os.path.join(root, "../shared/peer/torch_step.py"))
p.add_argument("--settings", default="vit-tiny:16:112:8,vit-small:16:224:2,vit-base:16:224:1")
p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
a = p.parse_args()
peer = [a.peer, a.peer_script]
if a.precision == "bf16":
    peer = [a.peer, os.path.join(here, "torch_step_autocast.py"), "--peer-script", a.peer_script]

def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return json.loads(out)

for setting in a.settings.split(","):
    preset, frames, size, batch = setting.split(":")
    args = ["--preset", preset, "--frames", frames, "--size", size, "--batch", batch,
            "--steps", str(a.steps), "--threads", str(a.threads)]
    ours_args = args + (["--precision", "bf16"] if a.precision == "bf16" else [])
    ours, theirs = [], []
    meter = Meter()
    for _ in range(a.rounds):
        ours.append(run([a.vmae, "bench"] + ours_args))
        theirs.append(run(peer + args))
    ratios = [o["step_s_median"] / t["step_s_median"] for o, t in zip(ours, theirs)]
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    print(json.dumps(dict(
        setting=setting, precision=a.precision,
        vmae_step_s=med(ours, "step_s_median"), torch_step_s=med(theirs, "step_s_median"),
        ratio_median=statistics.median(ratios), ratios=[round(r, 3) for r in ratios],
        vmae_maxrss_mb=med(ours, "maxrss_mb"), torch_maxrss_mb=med(theirs, "maxrss_mb"),
        vmae_gflop_per_s=med(ours, "gflop_per_s"), gflop_per_step=ours[0]["gflop_per_step"],
        **meter.summary())), flush=True)
