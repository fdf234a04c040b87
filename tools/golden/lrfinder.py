#!/usr/bin/python3
"""Golden data for the LR range test (src/Trainers/Training/LrFinder*.cs), from real PyTorch
(Debian python3-torch 1.13.1).

Run:  /usr/bin/python3 tools/golden/lrfinder.py  →  tools/golden/data/training/lrfinder.json

What is reproduced (the packages themselves are not installed here, so their documented rules are re-stated in a
few lines and driven by torch 1.13's own optimizer and _LRScheduler machinery):

* Learning-rate sequences of davidtvs/pytorch-lr-finder (torch_lr_finder/lr_finder.py @ 00abb907): its
  ExponentialLR / LinearLR are _LRScheduler subclasses whose get_lr() returns, with r = last_epoch / (num_iter - 1),
  base_lr * (end_lr / base_lr) ** r  (exp)  or  base_lr + r * (end_lr - base_lr)  (linear). range_test() trains
  on a batch, appends get_lr()[0] to the history, then calls scheduler.step(). start_lr is written into every
  param group before the scheduler is built, so base_lr == start_lr.
* Loss smoothing and the divergence stop, for fixed loss sequences:
  - "torch_lr_finder": range_test(): the first loss is kept as is and is the first best loss; later losses become
    smooth_f * loss + (1 - smooth_f) * previous smoothed; best = min; the smoothed loss is appended, then the test
    stops if it exceeds diverge_th * best (defaults smooth_f = 0.05, diverge_th = 5).
  - "fastai": fastai's AvgSmoothLoss (fastai/learner.py): val = torch.lerp(loss, val, beta) starting from 0,
    value = val / (1 - beta ** count); LRFinder.after_batch (fastai/callback/schedule.py): best = min(best, value),
    stop when value > 4 * best, after the Recorder has stored the value (defaults beta = 0.98, factor 4).
  Losses are float32 values (as a model's loss would be); the smoothing runs in float64.
"""
import json
import math
import os

import torch
from torch.optim.lr_scheduler import _LRScheduler

from goldenlib import meta, out_dir

OUT = out_dir("training")
META = meta("tools/golden/lrfinder.py")


class RangeTestLR(_LRScheduler):
    """pytorch-lr-finder's ExponentialLR (mode "exp") or LinearLR (mode "linear"), re-stated."""

    def __init__(self, optimizer, end_lr, num_iter, mode):
        if num_iter <= 1:
            raise ValueError("num_iter must be larger than 1")
        self.end_lr, self.num_iter, self.mode = end_lr, num_iter, mode
        super().__init__(optimizer)

    def get_lr(self):
        r = self.last_epoch / (self.num_iter - 1)
        if self.mode == "exp":
            return [base * (self.end_lr / base) ** r for base in self.base_lrs]
        return [base + r * (self.end_lr - base) for base in self.base_lrs]


def lr_sequence(mode, start_lr, end_lr, num_iter):
    param = torch.zeros(3, requires_grad=True)
    opt = torch.optim.SGD([param], lr=start_lr)
    sched = RangeTestLR(opt, end_lr, num_iter, mode)
    lrs, used = [], []
    for _ in range(num_iter):
        used.append(opt.param_groups[0]["lr"])  # the lr the batch was trained with
        param.grad = torch.ones(3)
        opt.step()
        lrs.append(sched.get_lr()[0])           # what range_test() records
        sched.step()
    assert all(a == b for a, b in zip(lrs, used)), "recorded lr differs from the lr used"
    return lrs


def smooth_torch_lr_finder(losses, smooth_f, diverge_th):
    history, best = [], None
    for i, loss in enumerate(losses):
        if i == 0:
            best = loss
        else:
            if smooth_f > 0:
                loss = smooth_f * loss + (1 - smooth_f) * history[-1]
            if loss < best:
                best = loss
        history.append(loss)
        if loss > diverge_th * best:
            break
    return history


def smooth_fastai(losses, beta, factor):
    val = torch.tensor(0.0, dtype=torch.float64)
    best = float("inf")
    history = []
    for count, loss in enumerate(losses, start=1):
        val = torch.lerp(torch.tensor(loss, dtype=torch.float64), val, beta)
        value = (val / (1 - beta ** count)).item()
        history.append(value)
        if value < best:
            best = value
        if value > factor * best:
            break
    return history


def loss_sequences():
    g = torch.Generator().manual_seed(20240611)
    i = torch.arange(100, dtype=torch.float64)
    # Falls from ~2.3 to ~0.6 around step 40, then blows up after ~step 75; noisy like minibatch losses.
    curve = 2.3 - 1.7 * torch.sigmoid((i - 40) / 7) + torch.exp((i - 78) / 5) + 0.08 * torch.randn(100, generator=g, dtype=torch.float64)
    blow_up = curve.clamp(min=0.05).float()
    # Noisy and flat: never diverges, so all 100 points are recorded.
    flat = (1.0 + 0.05 * torch.randn(100, generator=g)).float()
    # Decreases a little, then explodes within a few steps.
    early = torch.tensor([1.0, 0.95, 0.9, 0.92, 0.88, 0.9, 3.0, 12.0, 60.0, 400.0, 2000.0, 1e4], dtype=torch.float32)
    return {"blow_up": blow_up, "flat": flat, "early": early}


def main():
    lr_cases = []
    for mode, start, end, n in [("exp", 1e-7, 10.0, 100), ("exp", 1e-5, 1.0, 7), ("exp", 1e-3, 3e-3, 2),
                                ("exp", 3e-6, 0.5, 250), ("linear", 1e-7, 10.0, 100), ("linear", 1e-3, 0.1, 13)]:
        lr_cases.append({"mode": mode, "start_lr": start, "end_lr": end, "num_steps": n, "lrs": lr_sequence(mode, start, end, n)})

    smoothing = []
    for name, seq in loss_sequences().items():
        losses = [float(x) for x in seq.tolist()]  # exact float32 values
        smoothing.append({"name": name, "kind": "torch_lr_finder", "smooth_f": 0.05, "diverge_th": 5.0, "losses": losses,
                          "smoothed": smooth_torch_lr_finder(losses, 0.05, 5.0)})
        smoothing.append({"name": name, "kind": "fastai", "beta": 0.98, "factor": 4.0, "losses": losses,
                          "smoothed": smooth_fastai(losses, 0.98, 4.0)})

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "lrfinder.json"), "w") as f:
        json.dump({"meta": META, "lr_sequences": lr_cases, "smoothing": smoothing}, f, indent=0)
    for s in smoothing:
        print(f"{s['name']:8s} {s['kind']:16s} recorded {len(s['smoothed'])} of {len(s['losses'])}")
    print(f"wrote lrfinder.json: {len(lr_cases)} lr sequences, {len(smoothing)} smoothing cases")


if __name__ == "__main__":
    main()
