#!/usr/bin/env python3
"""The peer's pretraining step (../shared/peer/torch_step.py, run unchanged) with the model's
forward, loss included, under torch.autocast("cpu", dtype=torch.bfloat16): PyTorch's own bf16
mixed precision, the anchor for `vmae bench --precision bf16`. Autocast runs the matmuls in
bf16 with fp32 accumulation and keeps layer norm, softmax and the MSE loss in fp32; the weights,
their gradients and AdamW stay fp32, as in vmae's bf16. Prints the peer's JSON line with
"precision": "bf16" added.

usage: Tools/bench/torch_step_autocast.py [--peer-script ../shared/peer/torch_step.py] ARGS…
       (ARGS: the peer's own, e.g. --preset vit-small --frames 16 --size 224 --batch 2 --steps 5)
"""
import contextlib, io, json, os, runpy, sys
import torch
import transformers

here = os.path.dirname(os.path.abspath(__file__))
script = os.path.join(here, "../../../shared/peer/torch_step.py")
args = sys.argv[1:]
if args[:1] == ["--peer-script"]:
    script, args = args[1], args[2:]

plain_forward = transformers.VideoMAEForPreTraining.forward
def autocast_forward(self, *a, **k):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return plain_forward(self, *a, **k)
transformers.VideoMAEForPreTraining.forward = autocast_forward  # the script imports this class

sys.argv = [script] + args
out = io.StringIO()
with contextlib.redirect_stdout(out):
    runpy.run_path(script, run_name="__main__")
line = json.loads(out.getvalue().strip().splitlines()[-1])
line["precision"] = "bf16"
print(json.dumps(line))
