#!/usr/bin/python3
"""Golden data for the training-loop policies: gradient clipping, adaptive gradient clipping and weight averaging,
from real PyTorch (Debian python3-torch 1.13.1).

Run:  /usr/bin/python3 tools/golden/training.py   →  tools/golden/data/torch-X.Y/training/{clipping,averaging,swalr,loops}.json

AGC is transcribed from timm's timm/utils/agc.py (huggingface/pytorch-image-models @ 15d1dbc8); the EMA decay
warmup from timm's ModelEmaV3.get_decay (timm/utils/model_ema.py @ 0a044bf4).
"""
import json
import math
import os

import torch
import torch.nn as nn
from torch.optim.swa_utils import AveragedModel

from goldenlib import meta, out_dir

OUT = out_dir("training")
META = meta("tools/golden/training.py")


def enc(t):
    t = t.detach().contiguous()
    return {"shape": list(t.shape), "data": [float(x) if math.isfinite(x) else str(x) for x in t.reshape(-1).tolist()]}


def write(name, cases):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"meta": META, "cases": cases}, f, indent=0)
    print(f"wrote {name}.json: {len(cases)} cases")


def agc(parameters, clip_factor=0.01, eps=1e-3, norm_type=2.0):
    def unitwise_norm(x):
        if x.ndim <= 1:
            return x.norm(norm_type)
        return x.norm(norm_type, dim=tuple(range(1, x.ndim)), keepdim=True)
    for p in parameters:
        if p.grad is None:
            continue
        max_norm = unitwise_norm(p.detach()).clamp_(min=eps).mul_(clip_factor)
        grad_norm = unitwise_norm(p.grad.detach())
        clipped = p.grad.detach() * (max_norm / grad_norm.clamp(min=1e-6))
        p.grad.detach().copy_(torch.where(grad_norm < max_norm, p.grad.detach(), clipped))


def params_with_grads(seed, scale):
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (4,), (2, 3, 2, 2), (5,)]
    ps = []
    for s in shapes:
        p = (torch.rand(s, generator=g) * 2 - 1).requires_grad_()
        p.grad = (torch.rand(s, generator=g) * 2 - 1) * scale
        ps.append(p)
    return ps


def clipping():
    cases = []
    for norm_type in (2.0, 1.0, float("inf"), 3.0):
        for max_norm, scale in ((0.5, 1.0), (100.0, 1.0), (1.0, 0.01)):
            ps = params_with_grads(17, scale)
            before = [enc(p.grad) for p in ps]
            total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
            cases.append({"kind": "norm", "norm_type": norm_type if math.isfinite(norm_type) else "inf", "max_norm": max_norm,
                          "params": [enc(p) for p in ps], "grads": before, "total_norm": float(total),
                          "clipped": [enc(p.grad) for p in ps]})
    ps = params_with_grads(5, 2.0)
    before = [enc(p.grad) for p in ps]
    torch.nn.utils.clip_grad_value_(ps, 0.3)
    cases.append({"kind": "value", "clip_value": 0.3, "params": [enc(p) for p in ps], "grads": before,
                  "clipped": [enc(p.grad) for p in ps]})
    for clip_factor, scale in ((0.01, 1.0), (0.5, 0.05), (0.1, 0.3)):
        ps = params_with_grads(23, scale)
        before = [enc(p.grad) for p in ps]
        agc(ps, clip_factor=clip_factor, eps=1e-3)
        cases.append({"kind": "agc", "clip_factor": clip_factor, "eps": 1e-3, "params": [enc(p) for p in ps],
                      "grads": before, "clipped": [enc(p.grad) for p in ps]})
    write("clipping", cases)


def averaging():
    cases = []
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    init = {k: enc(v) for k, v in model.state_dict().items()}
    g = torch.Generator().manual_seed(99)
    deltas = []
    for _ in range(6):
        deltas.append([(torch.rand(p.shape, generator=g) - 0.5) * 0.2 for p in model.parameters()])

    for kind in ("ema", "swa"):
        m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
        m.load_state_dict({k: torch.tensor(v["data"]).reshape(v["shape"]) if v["shape"] else torch.tensor(v["data"][0])
                           for k, v in init.items()})
        if kind == "ema":
            avg = AveragedModel(m, avg_fn=lambda a, p, n: 0.9 * a + (1 - 0.9) * p)
        else:
            avg = AveragedModel(m)
        history = []
        for d in deltas:
            with torch.no_grad():
                for p, dp in zip(m.parameters(), d):
                    p.add_(dp)
            avg.update_parameters(m)
            history.append([enc(p) for p in avg.module.parameters()])
        cases.append({"kind": kind, "decay": 0.9, "initial": init,
                      "deltas": [[enc(x) for x in d] for d in deltas], "averaged": history})

    # timm ModelEmaV3.get_decay transcription
    def get_decay(step, decay, min_decay, after, use_warmup, gamma, power):
        step = max(0, step - after - 1)
        if step <= 0:
            return 0.0
        if use_warmup:
            d = 1 - (1 + step / gamma) ** -power
            return max(min(d, decay), min_decay)
        return decay
    for cfg in ((0.9999, 0.0, 0, True, 1.0, 2 / 3), (0.999, 0.5, 10, True, 2.0, 0.75), (0.99, 0.0, 5, False, 1.0, 2 / 3)):
        cases.append({"kind": "decay_schedule", "decay": cfg[0], "min_decay": cfg[1], "start_step": cfg[2],
                      "use_warmup": cfg[3], "gamma": cfg[4], "power": cfg[5],
                      "values": [get_decay(s, *cfg) for s in range(0, 2000)]})
    write("averaging", cases)


def swalr():
    from torch.optim.swa_utils import SWALR
    cases = []
    for strategy in ("cos", "linear"):
        for anneal_epochs in (5, 1, 0):
            for moved in (None, 0.05):
                p = torch.nn.Parameter(torch.zeros(1))
                opt = torch.optim.SGD([p], lr=0.1)
                sched = SWALR(opt, swa_lr=0.01, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
                if moved is not None:
                    # another scheduler moved the lr between SWALR's construction and its first step
                    for g in opt.param_groups:
                        g["lr"] = moved
                lrs = []
                for _ in range(12):
                    opt.step()
                    sched.step()
                    lrs.append(opt.param_groups[0]["lr"])
                cases.append({"kind": "swalr", "strategy": strategy, "anneal_epochs": anneal_epochs, "swa_lr": 0.01,
                              "lr_at_first_step": moved if moved is not None else 0.1, "lrs": lrs})
    write("swalr", cases)


def loops():
    """Whole training loops as MLLrSched's Trainer runs them: full-batch LBFGS through the closure (cross-entropy summed
    and divided by the window's sample count, as the trainer normalises), and the same with accumulation of two
    micro-batches (each micro-batch's summed loss divided by the window's total before its backward)."""
    import torch.nn.functional as F
    cases = []
    for name, lbfgs, micro in (("lbfgs_full_batch", {"lr": 1.0, "max_iter": 5, "history_size": 5}, 1),
                               ("lbfgs_strong_wolfe_accumulated", {"lr": 1.0, "max_iter": 4, "line_search_fn": "strong_wolfe"}, 2)):
        g = torch.Generator().manual_seed(11)
        n, features, classes = 32, 6, 3
        x = torch.rand(n, features, generator=g) * 2 - 1
        y = (x[:, 0] * 1.5 - x[:, 1] + 0.5 * x[:, 2]).mul(1.2).add(1.5).floor().clamp(0, classes - 1).long()
        torch.manual_seed(5)
        model = nn.Sequential(nn.Linear(features, 8), nn.Tanh(), nn.Linear(8, classes))
        init = {k: enc(v) for k, v in model.state_dict().items()}
        opt = torch.optim.LBFGS(model.parameters(), **lbfgs)
        chunks = list(zip(x.split(n // micro), y.split(n // micro)))

        def closure():
            opt.zero_grad(set_to_none=True)
            total = 0.0
            for cx, cy in chunks:
                loss = F.cross_entropy(model(cx), cy, reduction="sum")
                loss.div(n).backward()
                total += loss.item()
            return total / n

        losses = [float(opt.step(closure)) for _ in range(4)]
        cases.append({"name": name, "lbfgs": lbfgs, "micro_batches": micro, "x": enc(x), "y": y.tolist(), "classes": classes,
                      "init": init, "losses": losses, "final": {k: enc(v) for k, v in model.state_dict().items()}})
    write("loops", cases)


if __name__ == "__main__":
    torch.set_num_threads(1)
    clipping()
    averaging()
    swalr()
    loops()
