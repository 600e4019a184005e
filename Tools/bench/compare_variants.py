#!/usr/bin/env python3
"""vmae against itself with one option changed (fp32 vs bf16, decoder masking off vs on), the
way compare_peer.py compares with PyTorch: the same preset, frames, size, batch and threads, run
alternately (A B A B …) so drift on a shared machine hits both, compared as the ratio of median
step times (B / A) pair by pair. Each line also carries the CPU, the load average before and
after and the share of CPU time the hypervisor stole (Tools/bench/machine.py), because a figure
from a loaded machine is not a speed claim.

usage: Tools/bench/compare_variants.py --b "--precision bf16" [--a ""] [--rounds 3] [--steps 3]
         [--threads 2] [--settings vit-small:16:224:2] [--a-env K=V …] [--b-env K=V …]
--a-env/--b-env set environment variables for one variant only (VMAE_SGEMM=openblas,
VMAE_BF16_GEMM=onednn, …).
"""
import argparse, json, os, shlex, statistics, subprocess
from machine import Meter

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
p = argparse.ArgumentParser()
p.add_argument("--a", default="", help="extra vmae bench options of variant A (default: none)")
p.add_argument("--b", required=True, help="extra vmae bench options of variant B")
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--steps", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--vmae", default=os.path.join(root, ".build/release/vmae"))
p.add_argument("--settings", default="vit-small:16:224:2")
p.add_argument("--a-env", nargs="*", default=[], help="KEY=VALUE pairs for variant A's environment")
p.add_argument("--b-env", nargs="*", default=[], help="KEY=VALUE pairs for variant B's environment")
a = p.parse_args()

def run(cmd, env_pairs=()):
    env = dict(os.environ, **dict(kv.split("=", 1) for kv in env_pairs))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout.strip().splitlines()[-1]
    return json.loads(out)

for setting in a.settings.split(","):
    preset, frames, size, batch = setting.split(":")
    args = [a.vmae, "bench", "--preset", preset, "--frames", frames, "--size", size, "--batch", batch,
            "--steps", str(a.steps), "--threads", str(a.threads)]
    meter = Meter()
    ra, rb = [], []
    for _ in range(a.rounds):
        ra.append(run(args + shlex.split(a.a), a.a_env))
        rb.append(run(args + shlex.split(a.b), a.b_env))
    ratios = [y["step_s_median"] / x["step_s_median"] for x, y in zip(ra, rb)]
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    print(json.dumps(dict(
        setting=setting, a=" ".join([a.a] + a.a_env).strip(), b=" ".join([a.b] + a.b_env).strip(), a_step_s=med(ra, "step_s_median"), b_step_s=med(rb, "step_s_median"),
        ratio_b_over_a=statistics.median(ratios), ratios=[round(r, 3) for r in ratios],
        a_maxrss_mb=med(ra, "maxrss_mb"), b_maxrss_mb=med(rb, "maxrss_mb"),
        **meter.summary())), flush=True)
