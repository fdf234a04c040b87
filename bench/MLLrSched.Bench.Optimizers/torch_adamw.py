#!/usr/bin/python3
"""PyTorch side of bench/MLLrSched.Bench.Optimizers: median time of one AdamW step (torch 1.13, CPU) on the same
layout (N float32 parameters in T tensors), with foreach=True (multi-tensor) and foreach=False (single-tensor)."""
import argparse
import json
import statistics
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--params", type=int, default=10_000_000)
ap.add_argument("--tensors", type=int, default=10)
ap.add_argument("--iters", type=int, default=30)
ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
result = {"torch_version": torch.__version__, "threads": torch.get_num_threads()}
for foreach in (True, False):
    params = [torch.randn(a.params // a.tensors, requires_grad=True) for _ in range(a.tensors)]
    for p in params:
        p.grad = torch.randn_like(p)
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, foreach=foreach)
    for _ in range(3):
        opt.step()
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - t0)
    result["foreach" if foreach else "single_tensor"] = statistics.median(times)
print(json.dumps(result))
