#!/usr/bin/python3
"""Python side of bench/MLLrSched.Bench.Binding: the same small op and Linear fwd+bwd, printed as JSON (ns)."""
import json
import sys
import time

import torch

threads, small_iters, lin_iters, rounds = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)


def median_ns(iters, fn):
    for _ in range(max(1, iters // 10)):
        fn()
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter_ns() - t0) / iters)
    samples.sort()
    return samples[len(samples) // 2]


a, b = torch.rand(16), torch.rand(16)
small = median_ns(small_iters, lambda: torch.add(a, b))

torch.manual_seed(0)
layer = torch.nn.Linear(784, 256)
x = torch.randn(128, 784)


def linear_step():
    layer.zero_grad(set_to_none=True)
    layer(x).sum().backward()


linear = median_ns(lin_iters, linear_step)
print(json.dumps({"torch": torch.__version__, "small_ns": small, "linear_ns": linear}))
