#!/usr/bin/python3
"""PyTorch side of bench/MLLrSched.Bench.Trainer and bench/MLLrSched.Bench.TorchSharp (torch 1.13 or 2.x, CPU).

train: trains the model given as nn.Sequential source (printed by ModelFactory.MlpPyTorchCode / CnnPyTorchCode) on
Fashion-MNIST with AdamW + OneCycleLR + clip_grad_norm_ + an EMA of the weights updated every step. Batches come either
from indexing the whole training tensor with a fresh randperm slice (the fastest hand-written loop, --loader index) or
from torch.utils.data.DataLoader over a TensorDataset with shuffle=True (the idiomatic loop, --loader dataloader).
Prints the median seconds per optimizer step over blocks of --every steps after --warmup steps (JSON, last line). In
paired mode each block line also carries the process's resident memory in KiB ("block SECONDS RSS_KIB").

ema: median seconds of one EMA update of --params float32 parameters in --tensors tensors, timm ModelEmaV3's
foreach form (_foreach_mul_ + _foreach_add_) and AveragedModel's per-tensor form.
"""
import argparse
import gzip
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["train", "ema"])
ap.add_argument("--model-code", default="")
ap.add_argument("--image", type=int, default=0, help="1: samples [1, 28, 28] (CNN), 0: [784]")
ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
ap.add_argument("--batch", type=int, default=128)
ap.add_argument("--steps", type=int, default=500)
ap.add_argument("--warmup", type=int, default=50)
ap.add_argument("--every", type=int, default=10)
ap.add_argument("--paired", type=int, default=0,
                help="1: before training print 'ready' and wait for 'go' on stdin; after every --every steps print "
                     "'block SECONDS' (time since the last 'go') and wait for the next 'go' (see PairedRun.cs)")
ap.add_argument("--lr", type=float, default=0.002)
ap.add_argument("--weight-decay", type=float, default=0.05)
ap.add_argument("--max-norm", type=float, default=1.0)
ap.add_argument("--ema-decay", type=float, default=0.999)
ap.add_argument("--label-smoothing", type=float, default=0.1)
ap.add_argument("--foreach", type=int, default=0, help="AdamW foreach (the CPU default, foreach=None, is the single-tensor loop)")
ap.add_argument("--fused", type=int, default=0, help="AdamW fused=True (torch >= 2.4 has a fused CPU kernel)")
ap.add_argument("--loader", choices=["index", "dataloader"], default="index",
                help="index: batches by indexing the training tensor with a randperm slice; "
                     "dataloader: torch.utils.data.DataLoader(TensorDataset, shuffle=True), the idiomatic loop")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--params", type=int, default=10_000_000)
ap.add_argument("--tensors", type=int, default=10)
ap.add_argument("--iters", type=int, default=30)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
result = {"torch_version": torch.__version__, "threads": torch.get_num_threads()}


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def median_time(fn, iters):
    fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


if a.mode == "ema":
    shadow = [torch.randn(a.params // a.tensors) for _ in range(a.tensors)]
    params = [torch.randn(a.params // a.tensors) for _ in range(a.tensors)]
    d = a.ema_decay

    def foreach_ema():
        torch._foreach_mul_(shadow, d)
        torch._foreach_add_(shadow, params, alpha=1 - d)

    def per_tensor_ema():  # AveragedModel.update_parameters with an EMA avg_fn
        for s, p in zip(shadow, params):
            s.copy_(s * d + (1 - d) * p)

    with torch.no_grad():
        result["foreach"] = median_time(foreach_ema, a.iters)
        result["per_tensor"] = median_time(per_tensor_ema, a.iters)
    print(json.dumps(result))
    raise SystemExit(0)

x_all = torch.from_numpy(read_idx(f"{a.data}/train-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
y_all = torch.from_numpy(read_idx(f"{a.data}/train-labels-idx1-ubyte.gz").astype(np.int64))
x_all = x_all.reshape(-1, 1, 28, 28) if a.image else x_all.reshape(-1, 784)
n = x_all.shape[0]

model = eval(a.model_code, {"nn": nn})
model.train()
if a.fused:
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay, fused=True)
else:
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay, foreach=bool(a.foreach))
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.steps)

# EMA as timm's ModelEmaV3 (foreach over parameters and floating buffers, integer buffers copied); the first update
# copies, as AveragedModel does.
ema_params = [p.detach().clone() for p in model.parameters()]
ema_float_buffers = [b.detach().clone() for b in model.buffers() if b.is_floating_point()]
ema_int_buffers = [b.detach().clone() for b in model.buffers() if not b.is_floating_point()]
live_params = [p.detach() for p in model.parameters()]
live_float_buffers = [b for b in model.buffers() if b.is_floating_point()]
live_int_buffers = [b for b in model.buffers() if not b.is_floating_point()]
ema_updates = 0


@torch.no_grad()
def ema_update():
    global ema_updates
    d = a.ema_decay if ema_updates > 0 else 0.0
    for shadow, live in ((ema_params, live_params), (ema_float_buffers, live_float_buffers)):
        if shadow:
            torch._foreach_mul_(shadow, d)
            torch._foreach_add_(shadow, live, alpha=1 - d)
    for s, b in zip(ema_int_buffers, live_int_buffers):
        s.copy_(b)
    ema_updates += 1


batches_per_epoch = (n + a.batch - 1) // a.batch


def index_batches():
    while True:
        perm = torch.randperm(n)
        for i in range(batches_per_epoch):
            idx = perm[i * a.batch:(i + 1) * a.batch]
            yield x_all[idx], y_all[idx]


def dataloader_batches():
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_all, y_all), batch_size=a.batch, shuffle=True)
    while True:
        yield from loader


batches = index_batches() if a.loader == "index" else dataloader_batches()
stamps = []
step = 0
loss_sum = 0.0
go = None


def wait_for_go():
    global go
    if go is None:
        print("ready", flush=True)
    line = sys.stdin.readline().strip()
    if line != "go":
        raise SystemExit(f"expected 'go' on stdin, got {line!r}")
    go = time.perf_counter()


if a.paired:
    wait_for_go()
t_start = time.perf_counter()
while step < a.steps:
    x, y = next(batches)
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y, label_smoothing=a.label_smoothing)
    loss_sum += loss.item()  # logged, as any loop does
    loss.backward()
    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), a.max_norm)
    opt.step()
    sched.step()
    ema_update()
    step += 1
    if step % a.every == 0:
        stamps.append((step, time.perf_counter()))
        if a.paired:
            print(f"block {stamps[-1][1] - go!r} {rss_kib()}", flush=True)
            if step < a.steps:
                wait_for_go()

blocks = [(t1 - t0) / a.every for (s0, t0), (s1, t1) in zip(stamps, stamps[1:]) if s0 >= a.warmup and s1 - s0 == a.every]
if a.paired or not blocks:
    blocks = [float("nan")]
result.update({
    "step_median": statistics.median(blocks),
    "blocks": len(blocks),
    "total_seconds": time.perf_counter() - t_start,
    "final_loss": loss.item(),
    "grad_norm": float(total_norm),
})
print(json.dumps(result))
